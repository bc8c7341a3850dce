// Postgres unreachable (a TCP proxy in front of it, cut by the test): a webhook cannot be stored,
// so it answers 503 problem+json and the provider retries; nothing is half-stored; once the
// database is back, the provider's retry is accepted and applied exactly once.
import { eq, inArray } from 'drizzle-orm';
import t from 'tap';
import { verificationHistory, webhookEvents } from '../../db/schema/index.ts';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.ts';
import { TEST_DATABASE_URL } from '../helpers/database.ts';
import { decidePersonaInquiry, personaEventBody, postPersonaWebhook } from '../helpers/persona-webhooks.ts';
import { eventually, startStack } from '../helpers/stack.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';

t.test('database unreachable: webhooks 503, nothing stored; the retry after recovery is accepted', async (t) => {
  const pg = new URL(TEST_DATABASE_URL);
  const proxy = await startTcpProxy(t, { host: pg.hostname, port: Number(pg.port || 5432) });
  const stack = await startStack(t, {
    databaseUrl: (url) => proxy.via(url),
    sandboxWebhookTarget: `http://127.0.0.1:${await pickFreePort()}/lost`,
  });

  const created = await stack.request('POST', '/v1/verifications', { provider: 'persona' }, { prefer: 'wait=15' });
  t.equal(created.status, 201);
  const id: string = created.body.id;
  const inquiryId = new URL(created.body.sessionUrl).searchParams.get('inquiry-id')!;
  await decidePersonaInquiry(stack.sandboxUrl, inquiryId, 'approved');
  const historyBefore = await stack.directDb.select().from(verificationHistory).where(eq(verificationHistory.verificationId, id));

  const base = Date.now() - 10_000;
  const events = [
    personaEventBody({ name: 'inquiry.completed', createdAt: new Date(base), inquiryId, referenceId: id, status: 'completed' }),
    personaEventBody({ name: 'inquiry.approved', createdAt: new Date(base + 1000), inquiryId, referenceId: id, status: 'approved' }),
  ];

  proxy.cut();
  const started = Date.now();
  const during = await Promise.all(events.map((e) => postPersonaWebhook(stack.apiUrl, e.body)));
  const outageMs = Date.now() - started;
  for (const response of during) {
    t.equal(response.status, 503);
    t.match(response.contentType, /^application\/problem\+json/);
    t.match(response.body, { status: 503, code: 'storage_unavailable', title: 'Service unavailable', correlationId: /.+/ });
    t.notMatch(JSON.stringify(response.body), /ECONN|postgres|127\.0\.0\.1/, 'no internals in the body');
  }
  t.ok(outageMs < 10_000, `503 answered promptly (${outageMs} ms)`);
  // A forged webhook needs no database to be refused.
  const forged = await fetch(`${stack.apiUrl}/webhooks/persona`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'persona-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}` },
    body: events[0]!.body,
  });
  await forged.text();
  t.equal(forged.status, 401, 'bad signature is still 401 during the outage');
  const ready = await stack.app.inject({ method: 'GET', url: '/health/ready' });
  t.equal(ready.statusCode, 503, 'readiness reports the database');
  t.match(ready.json(), { checks: { database: { ok: false } } });

  const eventIds = events.map((e) => e.eventId);
  const storedDuring = await stack.directDb.select().from(webhookEvents).where(inArray(webhookEvents.providerEventId, eventIds));
  t.equal(storedDuring.length, 0, 'nothing stored while the database was unreachable');
  const historyDuring = await stack.directDb.select().from(verificationHistory).where(eq(verificationHistory.verificationId, id));
  t.equal(historyDuring.length, historyBefore.length, 'and nothing applied');

  proxy.restore();
  // Persona retries each event (same body, fresh signature).
  const retried = await Promise.all(events.map((e) => postPersonaWebhook(stack.apiUrl, e.body)));
  t.same(
    retried.map((r) => [r.status, r.body.duplicate]),
    [
      [200, false],
      [200, false],
    ],
    'the retries are accepted, as new',
  );

  const rows = await eventually(
    () => stack.directDb.select().from(webhookEvents).where(inArray(webhookEvents.providerEventId, eventIds)),
    (rs) => rs.length === 2 && rs.every((r) => r.outcome === 'applied' || r.outcome === 'stale'),
  );
  t.equal(rows.length, 2, 'one row per event');
  const allRows = await stack.directDb.select().from(webhookEvents);
  t.equal(allRows.length, 2, 'no stray rows');
  const done = await eventually(
    () => stack.request('GET', `/v1/verifications/${id}`),
    (r) => r.body.status === 'approved',
  );
  t.equal(done.body.status, 'approved');
  const webhookHistory = done.body.history.filter((h: { source: string }) => h.source === 'webhook');
  t.same(webhookHistory.map((h: { eventId: string }) => h.eventId).sort(), [...eventIds].sort(), 'each event recorded once');
  t.comment(
    `sentDuringOutage=${during.length} answered503=${during.filter((r) => r.status === 503).length} storedDuring=${storedDuring.length} retried=${retried.length} accepted=${retried.filter((r) => r.status === 200 && !r.body.duplicate).length} rows=${rows.length} historyWebhookEntries=${webhookHistory.length} outageAnswerMs=${outageMs} status=${done.body.status}`,
  );
});
