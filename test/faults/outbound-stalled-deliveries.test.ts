// An outbound webhook delivery whose run never started (the verification workflow stopped between
// writing the row and starting its child, or that start failed) must not stay `pending` forever:
// the sweeper starts it once it is older than OUTBOUND_SWEEP_AFTER, and POST …/retry accepts it.
import { eq } from 'drizzle-orm';
import t from 'tap';
import { webhookDeliveries, type NewWebhookDelivery } from '../../db/schema/index.ts';
import { webhookDeliveryWorkflowId } from '../../workflows/messages.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';
import { TEST_API_KEY, eventually, startStack } from '../helpers/stack.ts';

t.test('outbound deliveries whose run never started', async (t) => {
  const stack = await startStack(t, {
    startSweeper: true,
    env: { SWEEPER_INTERVAL: '500ms', OUTBOUND_SWEEP_AFTER: '1m', OUTBOUND_RETRY_SCHEDULE: '1s' },
  });
  const receiver = await startWebhookReceiver(t);
  const put = await stack.app.inject({
    method: 'PUT',
    url: '/v1/webhook-endpoint',
    headers: { authorization: `Bearer ${TEST_API_KEY}` },
    payload: { url: receiver.url },
  });
  t.equal(put.statusCode, 201);
  receiver.secret = put.json().secret;
  const created = await stack.request('POST', '/v1/verifications', { provider: 'persona' });
  const verificationId: string = created.body.id;
  // A row as the recording activity writes it, with no child workflow behind it.
  // Far above the seq the verification's own events take, which continue after the planted rows.
  const stalled = async (seq: number, createdAt: Date) => {
    const row: NewWebhookDelivery = {
      tenantId: stack.tenantId,
      verificationId,
      eventType: 'verification.status_changed',
      eventSeq: 1000 + seq,
      seq: 1000 * (seq + 1),
      payload: {
        type: 'verification.status_changed',
        timestamp: createdAt.toISOString(),
        seq: 1000 * (seq + 1),
        data: { id: verificationId },
      },
      createdAt,
    };
    const [inserted] = await stack.directDb.insert(webhookDeliveries).values(row).returning();
    return inserted!;
  };

  await t.test('the sweeper starts a pending delivery older than OUTBOUND_SWEEP_AFTER', async (t) => {
    const old = await stalled(1, new Date(Date.now() - 120_000));
    const [row] = await eventually(
      () => stack.directDb.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, old.id)),
      ([r]) => r?.status === 'succeeded',
    );
    t.match(row, { status: 'succeeded', attempts: 1 }, 'delivered');
    t.equal(receiver.delivered().filter((w) => w.id === old.id).length, 1, 'the endpoint got it once, signed');
    const run = await stack.temporal.client.workflow.getHandle(webhookDeliveryWorkflowId(old.id)).describe();
    t.equal(
      run.workflowId,
      webhookDeliveryWorkflowId(old.id),
      'as the run the verification workflow would have started (so two starts cannot both run)',
    );
  });

  await t.test('POST …/retry accepts a pending delivery with no running run', async (t) => {
    const fresh = await stalled(2, new Date());
    const retried = await stack.request('POST', `/v1/webhook-deliveries/${fresh.id}/retry`);
    t.equal(retried.status, 202, `retried, not 409: ${JSON.stringify(retried.body)}`);
    const [row] = await eventually(
      () => stack.directDb.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, fresh.id)),
      ([r]) => r?.status === 'succeeded',
    );
    t.match(row, { status: 'succeeded', generation: 1 }, 'delivered by the retry run');
    const again = await stack.request('POST', `/v1/webhook-deliveries/${fresh.id}/retry`);
    t.match(again, { status: 409, body: { code: 'delivery_succeeded' } }, 'a succeeded delivery is still refused');
  });
});
