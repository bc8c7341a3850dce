// All 120 orders of five Persona events through the real workflow with fetch-before-apply
// turned off, so the reducer alone decides: every order must end in the time-sorted outcome,
// and every event that arrives after a newer one must be recorded as not applied (stale).
import t from 'tap';
import { LIFECYCLE, runAllOrders } from '../helpers/event-orders.ts';
import { startStack } from '../helpers/stack.ts';

const UNIFIED: Record<string, string> = {
  created: 'created',
  pending: 'in_progress',
  completed: 'in_progress',
  needs_review: 'needs_review',
  approved: 'approved',
};

t.test('reducer only (fetchBeforeApply: false): 120 orders end in the time-sorted outcome; late arrivals are stale', async (t) => {
  const stack = await startStack(t, { capabilities: { persona: { fetchBeforeApply: false } } });
  const started = Date.now();
  const runs = await runAllOrders(stack);
  t.equal(runs.length, 120);

  let applied = 0;
  let stale = 0;
  let otherReasons = 0;
  let lost = 0;
  let duplicates = 0;
  let arrivedAsSent = 0;
  let wrong = 0;
  for (const run of runs) {
    const webhookEntries = run.history.filter((h) => h.source === 'webhook');
    const byId = new Map(run.sent.map((e) => [e.eventId, e]));
    lost += run.sent.filter((e) => !webhookEntries.some((h) => h.eventId === e.eventId)).length;
    duplicates += webhookEntries.length - new Set(webhookEntries.map((h) => h.eventId)).size;
    if (webhookEntries.map((h) => h.eventId).join() === run.sent.map((e) => e.eventId).join()) arrivedAsSent += 1;

    // Oracle independent of the reducer's code: in arrival order, an event applies iff it is newer than every earlier one.
    let newest = -1;
    let ok = run.status === 'approved' && run.providerStatus === 'approved';
    for (const entry of webhookEntries) {
      const sent = byId.get(entry.eventId!)!;
      const shouldApply = sent.step > newest;
      newest = Math.max(newest, sent.step);
      if (entry.applied) applied += 1;
      else if (entry.reason === 'stale') stale += 1;
      else otherReasons += 1;
      const outcome = run.outcomes.get(entry.eventId!);
      if (entry.applied !== shouldApply) ok = false;
      if (shouldApply && entry.to !== UNIFIED[LIFECYCLE[sent.step]!.status]) ok = false;
      if (!shouldApply && (entry.reason !== 'stale' || entry.from !== entry.to)) ok = false;
      if (outcome !== (shouldApply ? 'applied' : 'stale')) ok = false;
    }
    if (!ok) {
      wrong += 1;
      if (wrong <= 3)
        t.comment(
          `unexpected: ${JSON.stringify({ status: run.status, sent: run.sent.map((e) => e.step), history: run.history, outcomes: [...run.outcomes] })}`,
        );
    }
  }
  t.equal(wrong, 0, "every order ends approved with the oracle's applied/stale verdicts");
  t.equal(lost, 0, 'no event lost');
  t.equal(duplicates, 0, 'no event recorded twice');
  t.equal(otherReasons, 0, 'every ignored event is stale');
  // Applied events are the left-to-right maxima: 120 * H(5) = 274 when arrival order = sent order.
  t.equal(applied + stale, 600);
  t.comment(
    `orders=${runs.length} sent=600 applied=${applied} stale=${stale} otherReasons=${otherReasons} duplicates=${duplicates} lost=${lost} arrivedAsSent=${arrivedAsSent}/120 wrong=${wrong} ms=${Date.now() - started}`,
  );
});
