// A slow backend: every Postgres round trip delayed by 500 ms (a proxy in front of it). Webhooks
// are still answered — slower, never wrongly — and nothing acknowledged is lost once the
// database is fast again.
import { inArray } from 'drizzle-orm';
import t from 'tap';
import { webhookEvents } from '../../db/schema/index.ts';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.ts';
import { TEST_DATABASE_URL } from '../helpers/database.ts';
import { personaEventBody, postPersonaWebhook } from '../helpers/persona-webhooks.ts';
import { eventually, startStack } from '../helpers/stack.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';

const LATENCY_MS = 500;
const SENT = 20;

t.test('slow database: acks slow but honest, lost 0', async (t) => {
  const pg = new URL(TEST_DATABASE_URL);
  const proxy = await startTcpProxy(t, { host: pg.hostname, port: Number(pg.port || 5432) });
  const stack = await startStack(t, {
    databaseUrl: (url) => proxy.via(url),
    startSweeper: true,
    env: { SWEEPER_INTERVAL: '500ms' },
    sandboxWebhookTarget: `http://127.0.0.1:${await pickFreePort()}/lost`,
  });
  const created = await stack.request('POST', '/v1/verifications', { provider: 'persona' }, { prefer: 'wait=15' });
  const id: string = created.body.id;
  const inquiryId = new URL(created.body.sessionUrl).searchParams.get('inquiry-id')!;

  proxy.setLatency(LATENCY_MS);
  const base = Date.now() - 60_000;
  const events = Array.from({ length: SENT }, (_, i) =>
    personaEventBody({ name: 'inquiry.started', status: 'pending', createdAt: new Date(base + i * 1000), inquiryId, referenceId: id }),
  );
  const started = Date.now();
  const answers = await Promise.all(
    events.map(async (e) => {
      const began = Date.now();
      const res = await postPersonaWebhook(stack.apiUrl, e.body);
      return { status: res.status, ms: Date.now() - began, eventId: e.eventId };
    }),
  );
  const ackMs = answers.map((a) => a.ms).sort((a, b) => a - b);
  proxy.setLatency(0);

  const acknowledged = answers.filter((a) => a.status === 200);
  t.same(
    [...new Set(answers.map((a) => a.status))].filter((s) => s !== 200 && s !== 503),
    [],
    'every answer is 200 (stored) or an honest 503',
  );
  t.ok(ackMs.at(-1)! < 4000 + 3 * LATENCY_MS * 2, 'no answer waits much past the 4 s store deadline');
  // The provider retries what got a 503; some of those were stored after all and are duplicates now.
  const retried = await Promise.all(
    events.filter((e) => answers.find((a) => a.eventId === e.eventId)!.status !== 200).map((e) => postPersonaWebhook(stack.apiUrl, e.body)),
  );
  t.ok(
    retried.every((r) => r.status === 200),
    'every retry after recovery is accepted (stored now, or a duplicate)',
  );
  const rows = await eventually(
    () =>
      stack.directDb
        .select({ providerEventId: webhookEvents.providerEventId, outcome: webhookEvents.outcome })
        .from(webhookEvents)
        .where(
          inArray(
            webhookEvents.providerEventId,
            events.map((e) => e.eventId),
          ),
        ),
    (r) => r.length === SENT && r.every((row) => row.outcome === 'applied' || row.outcome === 'stale'),
    { timeoutMs: 60_000 },
  );
  const stored = new Set(rows.map((r) => r.providerEventId));
  const lost = events.filter((e) => !stored.has(e.eventId)).length;
  t.equal(lost, 0, 'every acknowledged webhook is stored');
  t.ok(
    rows.every((r) => r.outcome === 'applied' || r.outcome === 'stale'),
    'and processed by the workflow once the database is fast again',
  );
  t.comment(
    `latency=${LATENCY_MS}ms sent=${SENT} acknowledged=${acknowledged.length} 503=${answers.length - acknowledged.length} retriedDuplicates=${retried.filter((r) => r.body.duplicate).length} processed=${rows.length} lost=${lost} ack p50=${ackMs[Math.floor(SENT / 2)]}ms max=${ackMs.at(-1)}ms total=${Date.now() - started}ms`,
  );
});
