// Durable timers with second-scale durations: a session nobody completes expires (a final poll
// first), and a decision whose webhook is lost is recovered by the fallback poll.
import t from 'tap';
import { webhookEvents } from '../../db/schema/index.ts';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.ts';
import { verificationWorkflowId } from '../../workflows/messages.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';

const TIMERS = { VERIFY_FALLBACK_POLL_AFTER: '2s', VERIFY_POLL_INTERVAL: '1s', VERIFY_SESSION_TTL: '4s', VERIFY_DECISION_WINDOW: '2s' };

async function create(stack: Stack): Promise<{ id: string; inquiryId: string; createdAt: number }> {
  const createdAt = Date.now();
  const created = await stack.request('POST', '/v1/verifications', { provider: 'persona' }, { prefer: 'wait=15' });
  if (created.status !== 201) throw new Error(`create answered ${created.status}`);
  return { id: created.body.id, inquiryId: new URL(created.body.sessionUrl).searchParams.get('inquiry-id')!, createdAt };
}

async function decideInSandbox(stack: Stack, inquiryId: string, decision: string): Promise<void> {
  const decided = await fetch(`${stack.sandboxUrl}/persona/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ 'inquiry-id': inquiryId, decision }).toString(),
  });
  await decided.text();
  if (decided.status !== 200) throw new Error(`the sandbox answered ${decided.status} to ${decision}`);
}

t.test('timers', async (t) => {
  // Every webhook the sandbox sends is lost: a closed port.
  const stack = await startStack(t, { env: TIMERS, sandboxWebhookTarget: `http://127.0.0.1:${await pickFreePort()}/lost` });

  t.test('a session nobody completes: fallback polls, then at the TTL a final poll and expired', async (t) => {
    const { id, createdAt } = await create(stack);
    const done = await eventually(
      () => stack.request('GET', `/v1/verifications/${id}`),
      (r) => r.body.status === 'expired',
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    const elapsed = Date.now() - createdAt;
    t.equal(done.body.status, 'expired');
    const history: { source: string; to: string; from: string; applied: boolean; at: string }[] = done.body.history;
    const sources = history.map((h) => h.source);
    t.equal(sources[0], 'api');
    t.match(history.at(-1), { source: 'timer', from: 'created', to: 'expired', applied: true });
    t.match(history.at(-2), { source: 'poll', to: 'created', applied: true }, 'a final poll right before expiring');
    t.ok(Date.parse(history.at(-1)!.at) >= Date.parse(done.body.expiresAt), 'expired no earlier than expiresAt');
    t.match(done.body.result, { decision: 'expired', reasons: ['session_expired'] });
    const polls = sources.filter((s) => s === 'poll').length;
    t.equal(polls, 1, 'only the final poll is a history entry: polls that find nothing new leave no row');
    const workflowHistory = await stack.temporal.client.workflow.getHandle(verificationWorkflowId(id)).fetchHistory();
    // Provider reads run as local activities: their marker's bookkeeping names the activity type.
    const reads = (workflowHistory.events ?? []).filter((e) => {
      const marker = e.markerRecordedEventAttributes;
      if (marker?.markerName !== 'core_local_activity')
        return e.activityTaskScheduledEventAttributes?.activityType?.name === 'fetchProviderState';
      const data = marker.details?.data?.payloads?.[0]?.data;
      return data ? /"activity_type":"fetchProviderState"/.test(Buffer.from(data).toString('utf8')) : false;
    }).length;
    t.ok(reads >= 2, `fallback polls before expiry too (${reads} provider reads in the workflow history)`);
    const handle = stack.temporal.client.workflow.getHandle(verificationWorkflowId(id));
    const closed = await eventually(
      () => handle.describe(),
      (d) => d.status.name !== 'RUNNING',
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    t.equal(closed.status.name, 'COMPLETED', 'the workflow ends after the decision window');
    t.comment(`expiry: history=${sources.join('>')} polls=${polls} expiredAfterMs=${elapsed}`);
  });

  t.test('a session in review at expiry does not expire: polling goes on until the provider decides', async (t) => {
    const { id, inquiryId } = await create(stack);
    await decideInSandbox(stack, inquiryId, 'needs_review');
    const inReview = await eventually(
      () => stack.request('GET', `/v1/verifications/${id}`),
      (r) => r.body.status === 'needs_review',
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    t.equal(inReview.body.status, 'needs_review', 'the fallback poll found the manual review');
    const expiresAt = Date.parse(inReview.body.expiresAt);
    // The condition is time itself: watch every status the verification shows until well past its expiry.
    const seen = new Set<string>();
    const past = await eventually(
      () => stack.request('GET', `/v1/verifications/${id}`),
      (r) => {
        seen.add(r.body.status);
        return Date.now() > expiresAt + 2_000;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    t.same([...seen], ['needs_review'], 'never expired while the provider was reviewing');
    t.equal(past.body.history.filter((h: { source: string }) => h.source === 'timer').length, 0, 'no expiry recorded');

    await decideInSandbox(stack, inquiryId, 'approved');
    const done = await eventually(
      () => stack.request('GET', `/v1/verifications/${id}`),
      (r) => r.body.status === 'approved',
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    t.equal(done.body.status, 'approved', "the reviewer's decision, after the session expiry");
    t.match(
      done.body.history.at(-1),
      { source: 'poll', from: 'needs_review', to: 'approved', applied: true },
      'found by the polling that went on past the expiry',
    );
  });

  t.test('a lost webhook: the fallback poll finds the decision (source poll)', async (t) => {
    const { id, inquiryId, createdAt } = await create(stack);
    await decideInSandbox(stack, inquiryId, 'approved');
    const done = await eventually(
      () => stack.request('GET', `/v1/verifications/${id}`),
      (r) => r.body.status === 'approved',
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    const elapsed = Date.now() - createdAt;
    t.equal(done.body.status, 'approved');
    const history: { source: string; to: string; applied: boolean; at: string }[] = done.body.history;
    const recovery = history.find((h) => h.to === 'approved');
    t.match(recovery, { source: 'poll', applied: true }, 'recovered by polling');
    t.ok(Date.parse(recovery!.at) < Date.parse(done.body.expiresAt), 'by the fallback poll, before the session expiry');
    t.equal(history.filter((h) => h.source === 'webhook').length, 0, 'no webhook arrived');
    t.equal(history.filter((h) => h.source === 'timer').length, 0, 'never expired');
    t.match(
      done.body.result,
      { decision: 'approved', document: { type: 'national_id', number: /.+/ } },
      "the polled inquiry's document is saved",
    );
    const webhooks = await stack.directDb.select().from(webhookEvents);
    t.equal(webhooks.length, 0, 'the lost webhooks never reached us');
    t.comment(
      `lost webhook: history=${history.map((h) => `${h.source}:${h.to}`).join('>')} recoveredAfterMs=${Date.parse(recovery!.at) - createdAt} observedAfterMs=${elapsed}`,
    );
  });
});
