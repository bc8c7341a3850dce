// SmileID end to end on the real stack: API -> workflow -> sandbox Smile Link -> hosted page ->
// signed callback -> job_status read (fetch-before-apply) -> Postgres -> GET. The callback
// signature covers only its timestamp, so the result must come from job_status: a forged but
// validly signed callback proves it.
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { Signature } from 'smile-identity-core';
import t from 'tap';
import { webhookEvents } from '../../db/schema/index.ts';
import { parseSmileIdWebhook } from '../../providers/smileid/webhook.ts';
import { signedCallback } from '../helpers/smileid-callbacks.ts';
import { eventually, SMILEID_SECRETS, startStack, type Stack } from '../helpers/stack.ts';

interface HistoryEntry {
  source: string;
  eventId: string | null;
  from: string;
  to: string;
  applied: boolean;
}

async function sendCallback(stack: Stack, body: string) {
  const response = await stack.app.inject({
    method: 'POST',
    url: '/webhooks/smileid',
    headers: { 'content-type': 'application/json' },
    payload: body,
  });
  return { status: response.statusCode, body: response.json(), headers: response.headers };
}

async function decide(linkUrl: string, decision: string): Promise<{ status: number; html: string }> {
  const response = await fetch(linkUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ decision }).toString(),
  });
  return { status: response.status, html: await response.text() };
}

type TestContext = Parameters<Parameters<typeof t.test>[0]>[0];

async function createSmileIdVerification(t: TestContext, stack: Stack, reference: string) {
  const created = await stack.request('POST', '/v1/verifications', { provider: 'smileid', reference }, { prefer: 'wait=15' });
  t.equal(created.status, 201, 'Prefer: wait returns the session');
  t.match(created.body, { provider: 'smileid', reference, sessionUrl: new RegExp(`^${stack.sandboxUrl}/smileid/link/[0-9a-f]+$`) });
  return { id: created.body.id as string, sessionUrl: created.body.sessionUrl as string, createdAt: created.body.createdAt as string };
}

const get = (stack: Stack, id: string) => stack.request('GET', `/v1/verifications/${id}`);

t.test('smileid on the real stack', async (t) => {
  const stack = await startStack(t);

  await t.test('create, open the link, Approve: GET shows approved, confirmed through job_status', async (t) => {
    const { id, sessionUrl } = await createSmileIdVerification(t, stack, 'user-smile-1');
    // The session exists once Prefer: wait returns; the workflow records its status right after.
    const pending = await eventually(
      () => get(stack, id),
      (r) => r.body.status !== 'created',
    );
    t.match(pending.body, { status: 'pending', providerStatus: 'not_found', providerRef: id });
    const expiresIn = Date.parse(pending.body.expiresAt) - Date.now();
    t.ok(expiresIn > 23.9 * 3600_000 && expiresIn <= 24 * 3600_000, `the link expires in 24 h (${expiresIn} ms)`);

    const page = await fetch(sessionUrl);
    t.equal(page.status, 200);
    const html = await page.text();
    t.match(html, `data-testid="job-id">${id}<`, 'the link carries our verification id as job_id');
    t.equal((await decide(sessionUrl, 'approve')).status, 200);

    const done = await eventually(
      () => get(stack, id),
      (r) => r.body.status === 'approved',
    );
    t.match(done.body, { status: 'approved', providerStatus: '1012', result: { decision: 'approved' } });
    const history: HistoryEntry[] = done.body.history;
    t.equal(history[0]?.source, 'api');
    t.match(
      history.find((h) => h.source === 'webhook'),
      { to: 'approved', eventId: /^\d{10}:1012:/ },
      'the callback, applied as job_status said',
    );
    // The upsert commits with the workflow task that wrote the row: wait for it rather than race it.
    const handle = stack.temporal.client.workflow.getHandle(`verification-${id}`);
    const description = await eventually(
      () => handle.describe(),
      (d) => d.searchAttributes.VerificationStatus?.[0] === 'approved',
    );
    t.equal(description.searchAttributes.VerificationStatus?.[0], 'approved');
  });

  await t.test('a forged but validly signed approval cannot approve what job_status says is pending, then rejected', async (t) => {
    const { id, sessionUrl } = await createSmileIdVerification(t, stack, 'user-smile-2');

    // Before the user did anything: SmileID knows no job, whatever the callback claims.
    const early = signedCallback(id, '1012');
    t.same((await sendCallback(stack, early)).body, { received: true, duplicate: false });
    const earlyId = parseSmileIdWebhook(Buffer.from(early)).providerEventId;
    const afterEarly = await eventually(
      () => get(stack, id),
      (r) => r.body.history.some((h: HistoryEntry) => h.eventId === earlyId),
    );
    t.match(
      afterEarly.body.history.find((h: HistoryEntry) => h.eventId === earlyId),
      { source: 'webhook', to: 'pending' },
      'applied as job_status said: no job yet',
    );
    t.equal(afterEarly.body.status, 'pending', 'not approved');

    // The user is rejected (1013); then a forged approval arrives, newer than the real callback.
    t.equal((await decide(sessionUrl, 'reject')).status, 200);
    const declined = await eventually(
      () => get(stack, id),
      (r) => r.body.status === 'declined',
    );
    t.match(declined.body, { status: 'declined', providerStatus: '1013', result: { decision: 'declined', reasons: ['id_not_verified'] } });

    await new Promise((resolve) => setTimeout(resolve, 5)); // a strictly newer timestamp than the real callback
    const forged = signedCallback(id, '1012', '0000000001');
    t.equal((await sendCallback(stack, forged)).status, 200, 'validly signed: accepted and stored');
    const forgedId = parseSmileIdWebhook(Buffer.from(forged)).providerEventId;
    const final = await eventually(
      () => get(stack, id),
      (r) => r.body.history.some((h: HistoryEntry) => h.eventId === forgedId),
    );
    t.match(
      final.body.history.find((h: HistoryEntry) => h.eventId === forgedId),
      { source: 'webhook', to: 'declined' },
      'read through job_status: still 1013',
    );
    t.equal(final.body.status, 'declined');
    t.equal(final.body.providerStatus, '1013');
    const [row] = await stack.directDb.select().from(webhookEvents).where(eq(webhookEvents.providerEventId, forgedId));
    t.match(row, { provider: 'smileid', verificationId: id, providerRef: id, eventType: 'job.result' }, 'the forged callback is on record');
  });

  await t.test('a callback for a job we never created: 200, stored as unmatched; a repeat is a duplicate', async (t) => {
    const body = signedCallback(randomUUID(), '1012');
    const first = await sendCallback(stack, body);
    t.equal(first.status, 200);
    t.same(first.body, { received: true, duplicate: false });
    const eventId = parseSmileIdWebhook(Buffer.from(body)).providerEventId;
    const [row] = await stack.directDb.select().from(webhookEvents).where(eq(webhookEvents.providerEventId, eventId));
    t.match(row, { provider: 'smileid', outcome: 'unmatched', verificationId: null });
    t.same((await sendCallback(stack, body)).body, { received: true, duplicate: true });
  });

  await t.test('an invalid signature: 401 problem+json, nothing stored', async (t) => {
    const before = (await stack.directDb.select().from(webhookEvents)).length;
    const valid = JSON.parse(signedCallback(randomUUID(), '1012'));
    const cases: [string, string][] = [
      [
        'another key',
        JSON.stringify({
          ...valid,
          signature: new Signature(SMILEID_SECRETS.partnerId, 'not-our-key').generate_signature(valid.timestamp).signature,
        }),
      ],
      ['no signature', JSON.stringify({ ...valid, signature: undefined })],
      [
        'too old',
        (() => {
          const timestamp = new Date(Date.now() - 10 * 60_000).toISOString();
          return JSON.stringify({
            ...valid,
            timestamp,
            signature: new Signature(SMILEID_SECRETS.partnerId, SMILEID_SECRETS.apiKey).generate_signature(timestamp).signature,
          });
        })(),
      ],
    ];
    for (const [what, body] of cases) {
      const response = await sendCallback(stack, body);
      t.equal(response.status, 401, what);
      t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8');
      t.match(response.body, { status: 401, code: 'invalid_signature' });
    }
    t.equal((await sendCallback(stack, '{"not":')).status, 400, 'malformed JSON is 400');
    t.equal((await stack.directDb.select().from(webhookEvents)).length, before, 'nothing stored');
  });
});

t.test('smileid: the link expires with the session (second-scale TTL): final poll, then expired; the link says so', async (t) => {
  const stack = await startStack(t, { env: { VERIFY_SESSION_TTL: '3s' } });
  const { id, sessionUrl } = await createSmileIdVerification(t, stack, 'user-smile-ttl');
  const pending = await get(stack, id);
  const ttl = Date.parse(pending.body.expiresAt) - Date.parse(pending.body.createdAt);
  t.ok(ttl > 0 && ttl <= 4_000, `expiresAt is the earliest of the link's and now + TTL (${ttl} ms)`);

  const expired = await eventually(
    () => get(stack, id),
    (r) => r.body.status === 'expired',
    { timeoutMs: 20_000 },
  );
  t.equal(expired.body.status, 'expired');
  const history: HistoryEntry[] = expired.body.history;
  t.match(history.at(-1), { source: 'timer', to: 'expired', applied: true });
  t.ok(
    history.some((h) => h.source === 'poll'),
    'a final job_status read before giving up',
  );
  t.equal(expired.body.providerStatus, 'not_found', 'SmileID never saw a submission');

  const page = await fetch(sessionUrl);
  t.equal(page.status, 410);
  t.match(await page.text(), 'This link has expired');
  t.equal((await decide(sessionUrl, 'approve')).status, 410, 'too late to submit');
});
