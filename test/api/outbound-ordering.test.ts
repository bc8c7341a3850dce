// Ordered outbound delivery: for one endpoint and one verification, event n+1 is not sent before
// event n succeeded or was dead-lettered, while verifications never wait on each other. The
// receiver fails the first attempts of each verification's early events, which is what reordered
// independent deliveries (a later event overtook an earlier one stuck in its retry schedule).
import t from 'tap';
import { createTenant } from '../../api/services/tenants.ts';
import { TEST_OPERATOR_TOKEN, eventually, startStack } from '../helpers/stack.ts';
import { startWebhookReceiver, type ReceivedWebhook } from '../helpers/webhook-receiver.ts';

const VERIFICATIONS = 50;
/** The idmeta sandbox template 306 has three steps: created, 3 × step.completed, status_changed, completed or failed. */
const MIN_EVENTS = 5;
/** Early events (seq 1 and 2) fail this many attempts; the schedule leaves room for them to succeed. */
const FAILED_ATTEMPTS = 2;
const SCHEDULE = '100ms,200ms,300ms,400ms';

// 50 multi-step verifications on a shared 2-core machine take minutes.
t.setTimeout(1_200_000);

t.test('50 verifications × ≥5 events, early events failing first: 0 out of order, 0 lost, 0 duplicated', async (t) => {
  const stack = await startStack(t, { env: { OUTBOUND_RETRY_SCHEDULE: SCHEDULE } });
  const synced = await stack.request('POST', '/v1/templates/sync', undefined, { authorization: `Bearer ${TEST_OPERATOR_TOKEN}` });
  t.equal(synced.status, 200, 'idmeta templates synced');

  const receiver = await startWebhookReceiver(t, ({ attempt, body }) => ({
    status: body.seq <= 2 && attempt <= FAILED_ATTEMPTS ? 503 : 200,
  }));
  const { apiKey } = await createTenant(stack.database.db, 'ordering-tenant');
  const api = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) => {
    const res = await stack.app.inject({ method, url, headers: { authorization: `Bearer ${apiKey}` }, ...(payload ? { payload } : {}) });
    return { status: res.statusCode, body: res.json() };
  };
  const put = await api('PUT', '/v1/webhook-endpoint', { url: receiver.url });
  t.equal(put.status, 201);
  receiver.secret = put.body.secret;

  const ids = await Promise.all(
    Array.from({ length: VERIFICATIONS }, async () => {
      const created = await api('POST', '/v1/verifications', { provider: 'idmeta', templateId: '306' });
      if (created.status !== 202) throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
      return created.body.id as string;
    }),
  );

  // Every verification decided and every one of its deliveries settled.
  const startedAt = Date.now();
  const rows = await eventually(
    async () => {
      const all = await Promise.all(
        ids.map(async (id) => (await api('GET', `/v1/webhook-deliveries?verificationId=${id}&limit=100`)).body.data as any[]),
      );
      return all;
    },
    (all) =>
      all.every(
        (list) =>
          list.length >= MIN_EVENTS &&
          list.some((d) => d.eventType === 'verification.completed' || d.eventType === 'verification.failed') &&
          list.every((d) => d.status === 'succeeded'),
      ),
    { timeoutMs: 1_000_000, intervalMs: 2_000 },
  );
  const expected = rows.reduce((n, list) => n + list.length, 0);
  t.ok(expected >= VERIFICATIONS * MIN_EVENTS, `${expected} events for ${VERIFICATIONS} verifications`);

  const byVerification = new Map<string, ReceivedWebhook[]>();
  for (const r of receiver.received) {
    const list = byVerification.get(r.body.data.id) ?? [];
    list.push(r);
    byVerification.set(r.body.data.id, list);
  }
  let outOfOrder = 0;
  let lost = 0;
  let duplicated = 0;
  for (const [i, id] of ids.entries()) {
    const arrivals = byVerification.get(id) ?? [];
    const successes = arrivals.filter((r) => r.status === 200 && r.signatureValid);
    // Sent at all (attempts included) only once every earlier event has succeeded.
    let succeededUpTo = 0;
    for (const r of arrivals) {
      if (r.body.seq !== succeededUpTo + 1) outOfOrder += 1;
      if (r.status === 200 && r.body.seq === succeededUpTo + 1) succeededUpTo += 1;
    }
    const seqs = successes.map((r) => r.body.seq);
    lost += rows[i]!.filter((d) => !successes.some((r) => r.id === d.id)).length;
    duplicated += seqs.length - new Set(seqs).size;
    t.same(
      seqs,
      rows[i]!.map((_, k) => k + 1),
      `verification ${i}: seq 1..${rows[i]!.length} once each`,
    );
  }
  t.equal(outOfOrder, 0, 'no event sent before its predecessor succeeded');
  t.equal(lost, 0, 'none lost');
  t.equal(duplicated, 0, 'no duplicated success');
  t.equal(
    receiver.received.filter((r) => r.status === 503).length,
    VERIFICATIONS * 2 * FAILED_ATTEMPTS,
    'the early events of every verification failed first',
  );
  t.comment(
    `ordering: ${VERIFICATIONS} verifications, ${expected} events, ${receiver.received.length} requests; all settled ${Math.round((Date.now() - startedAt) / 1000)} s after the creates; out of order ${outOfOrder}, lost ${lost}, duplicated ${duplicated}`,
  );
});
