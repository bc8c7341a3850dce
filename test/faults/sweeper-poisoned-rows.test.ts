// Rows the sweeper cannot deliver must not hold up the ones it can. A terminated workflow's stored
// events sit at the head of the queue; a healthy event whose first signal failed (Temporal paused)
// is still delivered by the first pass after Temporal is back, and the poisoned rows end
// `undeliverable` with a reason after SWEEPER_MAX_ATTEMPTS instead of staying `received` forever.
import { eq, inArray } from 'drizzle-orm';
import t from 'tap';
import { verifications, webhookEvents } from '../../db/schema/index.ts';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.ts';
import { verificationWorkflowId } from '../../workflows/messages.ts';
import { TEMPORAL_CALL_DEADLINE_MS } from '../../api/services/start-workflow.ts';
import { personaEventBody, postPersonaWebhook } from '../helpers/persona-webhooks.ts';
import { startRestartableTemporal } from '../helpers/restartable-temporal.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';

const INTERVAL_MS = 1000;
const MAX_ATTEMPTS = 4;

async function createPersona(stack: Stack): Promise<{ id: string; inquiryId: string }> {
  const created = await stack.request('POST', '/v1/verifications', { provider: 'persona' }, { prefer: 'wait=15' });
  if (created.status !== 201) throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
  return { id: created.body.id, inquiryId: new URL(created.body.sessionUrl).searchParams.get('inquiry-id')! };
}

t.test('three events of a terminated workflow at the head of the queue do not block a healthy one', async (t) => {
  const temporal = await startRestartableTemporal(t);
  const stack = await startStack(t, {
    temporal,
    startSweeper: true,
    env: { SWEEPER_INTERVAL: `${INTERVAL_MS}ms`, SWEEPER_MAX_ATTEMPTS: String(MAX_ATTEMPTS) },
    // Only the webhooks this test sends arrive.
    sandboxWebhookTarget: `http://127.0.0.1:${await pickFreePort()}/lost`,
  });
  const poisoned = await createPersona(stack);
  const healthy = await createPersona(stack);
  await stack.temporal.client.workflow
    .getHandle(verificationWorkflowId(poisoned.id))
    .terminate('test: a workflow that will never take a signal again');

  const base = Date.now() - 60_000;
  const poisonedEvents = ['inquiry.started', 'inquiry.completed', 'inquiry.approved'].map((name, i) =>
    personaEventBody({
      name,
      status: name.slice('inquiry.'.length).replace('started', 'pending'),
      createdAt: new Date(base + i * 1000),
      inquiryId: poisoned.inquiryId,
      referenceId: poisoned.id,
    }),
  );
  for (const e of poisonedEvents)
    t.equal((await postPersonaWebhook(stack.apiUrl, e.body)).status, 200, 'stored although its workflow is gone');

  // The healthy verification is approved at Persona; its webhook arrives while Temporal is paused.
  await fetch(`${stack.sandboxUrl}/persona/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ 'inquiry-id': healthy.inquiryId, decision: 'approved' }).toString(),
  }).then((r) => r.text());
  await temporal.stopServer();
  const healthyEvent = personaEventBody({
    name: 'inquiry.approved',
    status: 'approved',
    createdAt: new Date(),
    inquiryId: healthy.inquiryId,
    referenceId: healthy.id,
  });
  t.equal((await postPersonaWebhook(stack.apiUrl, healthyEvent.body)).status, 200, 'stored while Temporal is down');
  const whileDown = await eventually(
    () => stack.directDb.select().from(webhookEvents).where(eq(webhookEvents.providerEventId, healthyEvent.eventId)),
    ([row]) => row?.errorMessage != null,
  );
  t.match(whileDown[0], { outcome: 'received', deliveredAt: null }, 'its first signal failed');

  await temporal.startServer();
  // Temporal answers again (the client has reconnected): from here one pass must reach the healthy row.
  await eventually(
    () =>
      stack.temporal.client.workflow
        .getHandle(verificationWorkflowId(healthy.id))
        .describe()
        .then(
          () => true,
          () => false,
        ),
    (up) => up,
    { timeoutMs: 30_000, intervalMs: 200 },
  );
  const backAt = Date.now();
  // A pass that began during the pause may still wait out its one Temporal call; the next starts within an interval.
  const budgetMs = TEMPORAL_CALL_DEADLINE_MS + INTERVAL_MS + 3000;
  const [delivered] = await eventually(
    () => stack.directDb.select().from(webhookEvents).where(eq(webhookEvents.providerEventId, healthyEvent.eventId)),
    ([row]) => row?.deliveredAt != null,
    { timeoutMs: budgetMs, intervalMs: 100 },
  );
  t.ok(
    delivered?.deliveredAt,
    `the healthy event is delivered within ${budgetMs} ms of Temporal answering (took ${Date.now() - backAt} ms)`,
  );
  const [approved] = await eventually(
    () => stack.directDb.select().from(verifications).where(eq(verifications.id, healthy.id)),
    ([row]) => row?.status === 'approved',
  );
  t.equal(approved?.status, 'approved', 'and applied');

  const stuck = await eventually(
    () =>
      stack.directDb
        .select()
        .from(webhookEvents)
        .where(
          inArray(
            webhookEvents.providerEventId,
            poisonedEvents.map((e) => e.eventId),
          ),
        ),
    (rows) => rows.every((r) => r.outcome === 'undeliverable'),
    { timeoutMs: (MAX_ATTEMPTS + 4) * INTERVAL_MS + TEMPORAL_CALL_DEADLINE_MS },
  );
  t.same(
    stuck.map((r) => r.outcome),
    ['undeliverable', 'undeliverable', 'undeliverable'],
    'the terminated workflow’s events end undeliverable',
  );
  t.ok(
    stuck.every((r) => r.deliveryAttempts === MAX_ATTEMPTS),
    `after exactly ${MAX_ATTEMPTS} attempts: ${stuck.map((r) => r.deliveryAttempts).join(',')}`,
  );
  t.ok(
    stuck.every((r) => /after \d+ attempts/.test(r.errorMessage ?? '')),
    `with a reason: ${stuck[0]?.errorMessage}`,
  );
  const metrics = await stack.app.inject({ method: 'GET', url: '/metrics' });
  t.match(metrics.body, /veriflow_webhooks_undeliverable_total\{provider="persona"\} 3/, 'counted in the metric');
});
