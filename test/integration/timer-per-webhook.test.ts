// What an applied webhook costs in durable timers: nothing. The verification keeps one timer
// armed for its next deadline; a webhook that pushes the fallback poll later leaves it armed
// (it fires early once and is armed again), so a stream of webhooks adds no TimerStarted or
// TimerCanceled events to the history. Only a deadline that moves earlier re-arms it
// (read-lag-recheck.test.ts).
import { setTimeout as delay } from 'node:timers/promises';
import { eq } from 'drizzle-orm';
import t, { type Test } from 'tap';
import { webhookEvents } from '../../db/schema/index.ts';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.ts';
import { verificationWorkflowId } from '../../workflows/messages.ts';
import { decidePersonaInquiry, personaEventBody, postPersonaWebhook } from '../helpers/persona-webhooks.ts';
import { eventually, startStack } from '../helpers/stack.ts';

const WEBHOOKS = 6;

/**
 * A stack with these timers, whose sandbox's own webhooks are lost (only the test's arrive), and
 * one Persona verification with its session; `applied`: how many of its webhooks were applied.
 */
async function verificationWithTimers(t: Test, timers: Record<string, string>) {
  const stack = await startStack(t, { env: timers, sandboxWebhookTarget: `http://127.0.0.1:${await pickFreePort()}/lost` });
  const created = await stack.request('POST', '/v1/verifications', { provider: 'persona' }, { prefer: 'wait=15' });
  t.equal(created.status, 201);
  const id: string = created.body.id;
  const inquiryId = new URL(created.body.sessionUrl).searchParams.get('inquiry-id')!;
  const handle = stack.temporal.client.workflow.getHandle(verificationWorkflowId(id));
  const applied = async () =>
    (await stack.directDb.select().from(webhookEvents).where(eq(webhookEvents.verificationId, id))).filter(
      (row) => row.outcome === 'applied',
    ).length;
  /** A Persona webhook that matches what a read of the sandbox shows (no read lag, so no recheck). */
  const sendWebhook = async (createdAt: Date) => {
    const { body } = personaEventBody({ name: 'inquiry.started', createdAt, inquiryId, referenceId: id, status: 'pending' });
    t.equal((await postPersonaWebhook(stack.apiUrl, body)).status, 200);
  };
  return { stack, id, inquiryId, handle, applied, sendWebhook };
}

t.test('applied webhooks start and cancel no timer', async (t) => {
  // The fallback poll (the next deadline; expiry comes later) moves with every webhook.
  const { stack, id, handle, applied, sendWebhook } = await verificationWithTimers(t, {
    VERIFY_FALLBACK_POLL_AFTER: '1h',
    VERIFY_SESSION_TTL: '2h',
  });

  /** Once the workflow is idle (nothing scheduled, no task pending): its timer events so far. */
  const timerEvents = async () => {
    await eventually(
      () => handle.describe(),
      (d) => d.raw.pendingActivities?.length === 0 && !d.raw.pendingWorkflowTask,
      { timeoutMs: 15_000, intervalMs: 50 },
    );
    const { events } = await handle.fetchHistory();
    return (events ?? []).filter((e) => e.timerStartedEventAttributes || e.timerCanceledEventAttributes).length;
  };

  const atStart = await timerEvents();
  t.ok(atStart >= 1, `a timer is armed once the session exists (${atStart} timer events)`);
  const began = Date.now();
  for (let i = 0; i < WEBHOOKS; i++) {
    // Each newer than the last.
    await sendWebhook(new Date(began + i));
    await eventually(applied, (n) => n === i + 1, { timeoutMs: 15_000 });
  }
  const afterWebhooks = await timerEvents();
  t.comment(`timer events: ${atStart} before ${WEBHOOKS} applied webhooks, ${afterWebhooks} after`);
  t.equal(afterWebhooks, atStart, 'no TimerStarted or TimerCanceled per webhook');
  const done = await stack.request('GET', `/v1/verifications/${id}`);
  t.equal(done.body.history.filter((h: { source: string }) => h.source === 'webhook').length, WEBHOOKS, 'every webhook applied');
});

t.test('a webhook pushes the fallback poll back: the timer armed before it fires early and reads nothing', async (t) => {
  const FALLBACK_MS = 3_000;
  const { stack, id, inquiryId, handle, applied, sendWebhook } = await verificationWithTimers(t, {
    VERIFY_FALLBACK_POLL_AFTER: `${FALLBACK_MS}ms`,
    VERIFY_POLL_INTERVAL: '1h',
    VERIFY_SESSION_TTL: '1h',
  });

  // The scenario is a moment, not a condition: the webhook comes a second into the first fallback period.
  await delay(1_000);
  const sentAt = Date.now();
  await sendWebhook(new Date());
  await eventually(applied, (n) => n === 1, { timeoutMs: 15_000 });
  // Decided at the provider, its webhook lost: only the fallback poll finds it, and not before its time.
  t.equal(await decidePersonaInquiry(stack.sandboxUrl, inquiryId, 'approved'), 200);

  const done = await eventually(
    () => stack.request('GET', `/v1/verifications/${id}`),
    (r) => r.body.status === 'approved',
    { timeoutMs: 20_000, intervalMs: 200 },
  );
  const recovery = done.body.history.find((h: { to: string }) => h.to === 'approved');
  t.match(recovery, { source: 'poll', applied: true }, 'the fallback poll found the decision');
  const afterWebhookMs = Date.parse(recovery.at) - sentAt;
  t.comment(`the poll read the provider ${afterWebhookMs} ms after the webhook (fallback ${FALLBACK_MS} ms)`);
  t.ok(afterWebhookMs >= FALLBACK_MS, 'the poll waited a whole fallback period after the webhook, not after the session');
  const { events } = await handle.fetchHistory();
  const timers = (events ?? []).flatMap((e) =>
    e.timerStartedEventAttributes
      ? ['started']
      : e.timerFiredEventAttributes
        ? ['fired']
        : e.timerCanceledEventAttributes
          ? ['canceled']
          : [],
  );
  t.same(
    timers.slice(0, 3),
    ['started', 'fired', 'started'],
    'the first timer was kept through the webhook, fired early, then armed again',
  );
});
