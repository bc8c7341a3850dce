// A SmileID callback's signature covers its timestamp and partner id, not its body: any signed
// pair authenticates any result for any job. While job_status cannot be read (503), the body
// must never be applied: it is recorded as unconfirmed and the workflow asks job_status again
// soon, until it answers.
import t from 'tap';
import { parseSmileIdWebhook } from '../../providers/smileid/webhook.ts';
import { injectFaults, remainingFaults } from '../helpers/sandbox-faults.ts';
import { signedCallback } from '../helpers/smileid-callbacks.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';

type HistoryRow = { source: string; eventId: string | null; to: string; applied: boolean; reason: string | null };

const JOB_STATUS = '^/v1/job_status$';
// The workflow's read is retried 5 times before it gives up: 5 faults make one read fail.
const ONE_FAILED_READ = Array.from({ length: 5 }, () => ({ status: 503 }));

async function create(stack: Stack, reference: string): Promise<{ id: string; sessionUrl: string }> {
  const created = await stack.request('POST', '/v1/verifications', { provider: 'smileid', reference }, { prefer: 'wait=15' });
  if (created.status !== 201) throw new Error(`create answered ${created.status}`);
  await eventually(
    () => stack.request('GET', `/v1/verifications/${created.body.id}`),
    (r) => r.body.status === 'pending',
  );
  return { id: created.body.id, sessionUrl: created.body.sessionUrl };
}

const get = (stack: Stack, id: string) => stack.request('GET', `/v1/verifications/${id}`);

t.test('smileid callbacks while job_status is down', async (t) => {
  // Rechecks every 2 s; the 24 h fallback poll never comes into play.
  const stack = await startStack(t, { env: { VERIFY_POLL_INTERVAL: '2s' } });

  t.test('a freshly signed callback claiming 1012 is recorded as unconfirmed, never applied', async (t) => {
    const { id } = await create(stack, 'unconfirmed-forged');
    await injectFaults(stack, JOB_STATUS, ONE_FAILED_READ);
    const body = signedCallback(id, '1012', '0000012345');
    const sent = await stack.app.inject({
      method: 'POST',
      url: '/webhooks/smileid',
      headers: { 'content-type': 'application/json' },
      payload: body,
    });
    t.equal(sent.statusCode, 200, 'validly signed: stored');
    const eventId = parseSmileIdWebhook(Buffer.from(body)).providerEventId;
    const recorded = await eventually(
      () => get(stack, id),
      (r) => r.body.history.some((h: HistoryRow) => h.eventId === eventId),
      { timeoutMs: 40_000, intervalMs: 250 },
    );
    t.match(
      recorded.body.history.find((h: HistoryRow) => h.eventId === eventId),
      { source: 'webhook', from: 'pending', to: 'pending', applied: false, reason: 'unconfirmed' },
    );
    t.equal(recorded.body.status, 'pending', "not approved on the body's word");
    t.same(await remainingFaults(stack), [], 'job_status was asked (and failed) before the body was judged');
  });

  t.test('a real approval whose job_status read fails twice: rechecked until job_status answers, then approved from it', async (t) => {
    const { id, sessionUrl } = await create(stack, 'unconfirmed-real');
    // The callback's read fails, and so does the first recheck; the second recheck answers.
    await injectFaults(stack, JOB_STATUS, [...ONE_FAILED_READ, ...ONE_FAILED_READ]);
    const decided = await fetch(sessionUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ decision: 'approve' }).toString(),
    });
    await decided.text();
    t.equal(decided.status, 200);
    const done = await eventually(
      () => get(stack, id),
      (r) => r.body.status === 'approved',
      { timeoutMs: 90_000, intervalMs: 250 },
    );
    t.equal(done.body.status, 'approved');
    const history: HistoryRow[] = done.body.history;
    t.match(
      history.find((h) => h.source === 'webhook'),
      { to: 'pending', applied: false, reason: 'unconfirmed' },
      'the callback alone applied nothing',
    );
    t.match(history.at(-1), { source: 'poll', from: 'pending', to: 'approved', applied: true }, 'the decision came from job_status');
    t.same(await remainingFaults(stack), [], 'every failing read was retried through');
  });
});
