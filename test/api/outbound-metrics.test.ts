// Outbound metrics: counters and the latency histogram by event type exist from the start (so
// alert rules find them), the activity counts its attempts, and the queue-age gauge is read from
// the database at scrape time. Every metric the outbound alert rules name is served at /metrics.
import { readFile } from 'node:fs/promises';
import pino from 'pino';
import t from 'tap';
import { WEBHOOK_EVENT_TYPES, createOutboundWebhookActivities } from '../../activities/outbound-webhooks.ts';
import { webhookDeliveries } from '../../db/schema/index.ts';
import { outboundPolicyFromEnv } from '../../wiring/outbound-address.ts';
import { createMetrics } from '../../wiring/metrics.ts';
import { TEST_API_KEY, startStack } from '../helpers/stack.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';

t.test('outbound metrics', async (t) => {
  const stack = await startStack(t);
  const scrape = async () => (await stack.app.inject({ method: 'GET', url: '/metrics' })).body;

  await t.test('every event type has its series at 0 from the start; the rules name only served metrics', async (t) => {
    const body = await scrape();
    for (const type of WEBHOOK_EVENT_TYPES) {
      for (const outcome of ['succeeded', 'failed', 'dead'])
        t.match(body, `veriflow_outbound_attempts_total{event_type="${type}",outcome="${outcome}"} 0`);
      t.match(body, `veriflow_outbound_delivery_seconds_count{event_type="${type}"} 0`);
    }
    t.match(body, /^veriflow_outbound_oldest_pending_seconds 0$/m, 'no delivery waiting');
    const rules = await readFile(new URL('../../ops/prometheus/rules/outbound.yml', import.meta.url), 'utf8');
    const named = new Set(rules.match(/veriflow_[a-z_]+/g));
    t.ok(named.size >= 2);
    for (const name of named) t.match(body, new RegExp(`^${name}`, 'm'), `${name} is served`);
  });

  await t.test('attempts counted by outcome, latency observed; the oldest pending delivery ages the gauge', async (t) => {
    const receiver = await startWebhookReceiver(t, ({ attempt }) => ({ status: attempt === 1 ? 500 : 200 }));
    const put = await stack.app.inject({
      method: 'PUT',
      url: '/v1/webhook-endpoint',
      headers: { authorization: `Bearer ${TEST_API_KEY}` },
      payload: { url: receiver.url },
    });
    receiver.secret = put.json().secret;
    const created = await stack.request('POST', '/v1/verifications', { provider: 'persona' });
    const [row] = await stack.directDb
      .insert(webhookDeliveries)
      .values({
        tenantId: stack.tenantId,
        verificationId: created.body.id,
        eventType: 'verification.status_changed',
        eventSeq: 500,
        seq: 500,
        payload: { type: 'verification.status_changed', timestamp: new Date().toISOString(), seq: 500, data: {} },
        createdAt: new Date(Date.now() - 7_200_000),
      })
      .returning();
    const age = Number(/^veriflow_outbound_oldest_pending_seconds (\S+)$/m.exec(await scrape())![1]);
    t.ok(age >= 7_200 && age < 7_300, `${age} s: the planted delivery, written 2 h ago`);

    const metrics = createMetrics();
    const activities = createOutboundWebhookActivities({
      db: stack.database.db,
      providers: { get: () => ({}) as never },
      logger: pino({ level: 'silent' }),
      outbound: outboundPolicyFromEnv(stack.env),
      metrics,
    });
    const attempt = (n: number, retryInMs: number | null) =>
      activities.attemptWebhookDelivery({ deliveryId: row!.id, generation: 0, attempt: n, retryInMs });
    t.match(await attempt(1, 10), { outcome: 'retrying' });
    t.match(await attempt(2, null), { outcome: 'delivered' });
    const body = await metrics.registry.metrics();
    t.match(body, 'veriflow_outbound_attempts_total{event_type="verification.status_changed",outcome="failed"} 1');
    t.match(body, 'veriflow_outbound_attempts_total{event_type="verification.status_changed",outcome="succeeded"} 1');
    t.match(body, 'veriflow_outbound_delivery_seconds_count{event_type="verification.status_changed"} 1');
    t.match(
      body,
      'veriflow_outbound_delivery_seconds_bucket{le="14400",event_type="verification.status_changed"} 1',
      '2 h from written to delivered',
    );
  });
});
