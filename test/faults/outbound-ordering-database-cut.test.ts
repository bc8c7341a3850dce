// Ordered outbound delivery through a Postgres outage: a verification's first event fails at the
// client's endpoint until the decision's events are queued, so the later ones wait their turn; the database is cut (a TCP proxy
// in front of it) the moment the endpoint accepts the first event, before that success can be
// recorded. Recording, turn checks, further attempts and the release of the next in line all
// need the database. Once it is back every event must arrive, none before its predecessor
// succeeded; the first may arrive twice (at least once: same webhook-id), no other event may.
import { eq } from 'drizzle-orm';
import t from 'tap';
import { createTenant } from '../../api/services/tenants.ts';
import { webhookDeliveries } from '../../db/schema/index.ts';
import { TEST_DATABASE_URL } from '../helpers/database.ts';
import { waitFor } from '../helpers/eventually.ts';
import { decidePersonaInquiry } from '../helpers/persona-webhooks.ts';
import { eventually, startStack } from '../helpers/stack.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';

t.test('database cut while ordered deliveries retry and wait their turn: afterwards all arrive, in order, once', async (t) => {
  const pg = new URL(TEST_DATABASE_URL);
  const proxy = await startTcpProxy(t, { host: pg.hostname, port: Number(pg.port || 5432) });
  const stack = await startStack(t, {
    databaseUrl: (url) => proxy.via(url),
    env: { OUTBOUND_RETRY_SCHEDULE: ['200ms', '400ms', ...Array<string>(30).fill('1s')].join(',') },
  });

  let laterEventsQueued = false;
  let cutAt = 0;
  const receiver = await startWebhookReceiver(t, ({ body }) => {
    if (body.seq !== 1) return { status: 200 };
    if (!laterEventsQueued) return { status: 503 };
    if (cutAt === 0) {
      proxy.cut();
      cutAt = Date.now();
    }
    return { status: 200 };
  });
  const { apiKey } = await createTenant(stack.directDb, 'outage-tenant');
  const headers = { authorization: `Bearer ${apiKey}` };
  const put = await stack.app.inject({ method: 'PUT', url: '/v1/webhook-endpoint', headers, payload: { url: receiver.url } });
  t.equal(put.statusCode, 201);
  receiver.secret = put.json().secret;

  const created = await stack.app.inject({
    method: 'POST',
    url: '/v1/verifications',
    headers: { ...headers, prefer: 'wait=15' },
    payload: { provider: 'persona', reference: 'outage-ordering' },
  });
  t.equal(created.statusCode, 201);
  const { id, sessionUrl } = created.json();
  await decidePersonaInquiry(stack.sandboxUrl, new URL(sessionUrl).searchParams.get('inquiry-id')!, 'approved');

  const deliveriesOf = () => stack.directDb.select().from(webhookDeliveries).where(eq(webhookDeliveries.verificationId, id));
  // The decision's events are queued behind the failing first one.
  const queued = await eventually(deliveriesOf, (rows) => rows.some((r) => r.eventType === 'verification.completed'), {
    what: 'the verification.completed delivery to be queued',
  });
  laterEventsQueued = true;
  await waitFor(() => cutAt > 0, 'the endpoint to accept the first event (the database is cut then)', 20_000);
  // Recording that success, further attempts and the API all reach for the database and are refused.
  await waitFor(() => proxy.refused >= 10, 'ten connections refused during the outage', 30_000);
  const receivedDuringCut = receiver.received.length;
  proxy.restore();
  const restoredAt = Date.now();

  const settled = await eventually(deliveriesOf, (rows) => rows.length === queued.length && rows.every((r) => r.status === 'succeeded'), {
    timeoutMs: 60_000,
    intervalMs: 200,
    what: 'every delivery of the verification to succeed after the outage',
  });
  t.comment(
    `database cut for ${restoredAt - cutAt} ms (${proxy.refused} connections refused); all delivered ${Date.now() - restoredAt} ms after it was back`,
  );
  t.ok(settled.length >= 3, `${settled.length} events, all delivered`);
  t.ok(receiver.received.length > receivedDuringCut, 'deliveries resumed after the outage');

  const arrivals = receiver.received.filter((r) => r.body.data.id === id);
  let succeededUpTo = 0;
  let early = 0;
  for (const r of arrivals) {
    if (r.body.seq > succeededUpTo + 1) early += 1;
    if (r.status === 200 && r.body.seq === succeededUpTo + 1) succeededUpTo += 1;
  }
  t.equal(early, 0, 'no event was sent before its predecessor succeeded');
  t.ok(
    arrivals.some((r) => r.body.seq === 1 && r.status === 503),
    'the first event failed before the outage',
  );
  const successes = arrivals.filter((r) => r.status === 200 && r.signatureValid);
  const firstSuccesses = successes.filter((r, i) => successes.findIndex((o) => o.body.seq === r.body.seq) === i);
  t.same(
    firstSuccesses.map((r) => r.body.seq),
    settled.map((_, k) => k + 1),
    'every event succeeded, in order',
  );
  const repeated = successes.filter((r) => !firstSuccesses.includes(r));
  t.ok(
    repeated.every((r) => r.body.seq === 1 && r.id === firstSuccesses[0]!.id),
    `only the first event, whose success the outage kept from being recorded, may arrive again, with its webhook-id (${repeated.length} repeated)`,
  );
});
