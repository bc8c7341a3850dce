import fc from 'fast-check';
import t from 'tap';
import { assertProperty } from '../helpers/property.ts';
import { isTerminalStatus, VERIFICATION_STATUSES, type VerificationStatus } from '../../domain/verification.ts';
import {
  applyEvent,
  atSessionExpiry,
  initialState,
  type ReducerEvent,
  type ReducerPolicy,
  type VerificationState,
} from '../../workflows/state.ts';

const persona: ReducerPolicy = { reverification: false, dedupeWindow: 2000 };
const stripe: ReducerPolicy = { reverification: true, dedupeWindow: 2000 };
const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();

function webhook(eventId: string, second: number, status: VerificationStatus, providerStatus: string = status): ReducerEvent {
  return { source: 'webhook', eventId, occurredAt: at(second), status, providerStatus, reasons: [] };
}

function run(events: ReducerEvent[], policy: ReducerPolicy, from: VerificationState = initialState()) {
  let state = from;
  const entries = [];
  for (const event of events) {
    const result = applyEvent(state, event, policy);
    state = result.state;
    for (const effect of result.effects) if (effect.type === 'record') entries.push(effect.entry);
  }
  return { state, entries };
}

const finalView = (s: VerificationState) => ({ status: s.status, providerStatus: s.providerStatus, reasons: s.reasons, winner: s.winner });

t.test('seed 000: a stale pending after approved is recorded, not applied', async (t) => {
  const { state, entries } = run([webhook('evt_2', 20, 'approved'), webhook('evt_1', 10, 'in_progress', 'pending')], persona);
  t.equal(state.status, 'approved');
  t.match(entries[1], { eventId: 'evt_1', applied: false, reason: 'stale', from: 'approved', to: 'approved' });
});

t.test('a newer non-terminal event cannot reopen a decision without re-verification', async (t) => {
  const { state, entries } = run([webhook('evt_1', 10, 'declined'), webhook('evt_2', 20, 'in_progress')], persona);
  t.equal(state.status, 'declined');
  t.match(entries[1], { applied: false, reason: 'terminal' });
});

t.test('a newer provider decision replaces an older one (dashboard re-decision)', async (t) => {
  const { state } = run([webhook('evt_1', 10, 'declined'), webhook('evt_2', 20, 'approved')], persona);
  t.equal(state.status, 'approved');
});

t.test('seed 003: Stripe active -> pending re-verification applies when newer, an older pending is ignored', async (t) => {
  const reverified = run([webhook('evt_1', 10, 'approved', 'active'), webhook('evt_2', 20, 'in_progress', 'pending')], stripe);
  t.equal(reverified.state.status, 'in_progress');
  const stale = run([webhook('evt_2', 20, 'approved', 'active'), webhook('evt_1', 10, 'in_progress', 'pending')], stripe);
  t.equal(stale.state.status, 'approved');
  t.match(stale.entries[1], { applied: false, reason: 'stale' });
});

t.test('equal times: the higher rank wins whatever the order', async (t) => {
  const a = run([webhook('evt_a', 10, 'in_progress'), webhook('evt_b', 10, 'needs_review')], persona).state;
  const b = run([webhook('evt_b', 10, 'needs_review'), webhook('evt_a', 10, 'in_progress')], persona).state;
  t.equal(a.status, 'needs_review');
  t.same(finalView(a), finalView(b));
});

t.test('an event the workflow already knows is stale is recorded as stale and never competes', async (t) => {
  const first = run([webhook('evt_2', 20, 'approved')], stripe).state;
  // On the reducer's own order this in_progress would win (re-verification, later time): the
  // workflow knows better from the provider's clock, and says so.
  const result = applyEvent(first, { ...webhook('evt_1', 99, 'in_progress'), knownStale: true }, stripe);
  t.equal(result.state.status, 'approved');
  t.match(result.effects[0], { type: 'record', entry: { applied: false, reason: 'stale', eventId: 'evt_1' } });
  t.ok(result.state.seenEventIds.includes('evt_1'), 'still remembered for dedupe');
});

t.test('a duplicate event id changes nothing and records nothing', async (t) => {
  const first = run([webhook('evt_1', 10, 'in_progress')], persona).state;
  const again = applyEvent(first, webhook('evt_1', 10, 'in_progress'), persona);
  t.equal(again.duplicate, true);
  t.same(again.effects, []);
  t.equal(again.state, first);
});

t.test('our session-created record never makes a provider event stale, whatever the clocks say', async (t) => {
  const created: ReducerEvent = {
    source: 'api',
    eventId: null,
    occurredAt: at(50),
    status: 'created',
    providerStatus: 'created',
    reasons: [],
  };
  const { state } = run([created, webhook('evt_1', 10, 'in_progress', 'pending')], persona);
  t.equal(state.status, 'in_progress');
});

t.test('a provider decision outranks our own expiry; an operator outranks everything', async (t) => {
  const expired: ReducerEvent = {
    source: 'timer',
    eventId: null,
    occurredAt: at(30),
    status: 'expired',
    providerStatus: null,
    reasons: ['session_expired'],
  };
  t.equal(run([expired, webhook('evt_1', 20, 'approved')], persona).state.status, 'approved');
  const review: ReducerEvent = {
    source: 'operator',
    eventId: null,
    occurredAt: at(5),
    status: 'declined',
    providerStatus: null,
    reasons: ['operator_review'],
  };
  const { state, entries } = run([review, webhook('evt_2', 40, 'approved')], persona);
  t.equal(state.status, 'declined');
  t.match(entries[1], { applied: false, reason: 'operator_decided' });
});

t.test('stored payloads are mined for documents; losing events only fill gaps', async (t) => {
  const first = applyEvent(initialState(), { ...webhook('evt_2', 20, 'approved'), webhookEventId: 'row-2' }, persona);
  t.same(
    first.effects.find((e) => e.type === 'storeDocument'),
    { type: 'storeDocument', webhookEventId: 'row-2', eventId: 'evt_2', onlyIfMissing: false },
  );
  const stale = applyEvent(first.state, { ...webhook('evt_1', 10, 'in_progress'), webhookEventId: 'row-1' }, persona);
  t.same(
    stale.effects.find((e) => e.type === 'storeDocument'),
    { type: 'storeDocument', webhookEventId: 'row-1', eventId: 'evt_1', onlyIfMissing: true },
  );
  t.notOk(
    stale.effects.some((e) => e.type === 'statusChanged'),
    'a stale event never notifies',
  );
});

t.test('the dedupe window is bounded and keeps the newest ids', async (t) => {
  const small: ReducerPolicy = { reverification: false, dedupeWindow: 3 };
  const { state } = run(
    [1, 2, 3, 4, 5].map((n) => webhook(`evt_${n}`, n, 'in_progress')),
    small,
  );
  t.same(state.seenEventIds, ['evt_3', 'evt_4', 'evt_5']);
});

// ---- properties -------------------------------------------------------------------------

// Every status of every provider's vocabulary, as the unified status it maps to, from every source.
const arbEvent = fc.record({
  source: fc.constantFrom('webhook', 'poll', 'timer', 'operator', 'api') as fc.Arbitrary<ReducerEvent['source']>,
  second: fc.integer({ min: 0, max: 30 }),
  status: fc.constantFrom(...VERIFICATION_STATUSES),
  providerStatus: fc.constantFrom(
    'created',
    'pending',
    'completed',
    'approved',
    'declined',
    'failed',
    'active',
    'restricted',
    '1012',
    '1013',
    '0814',
    'REVIEW_NEEDED',
  ),
});

/** Distinct events (unique ids), then a multiset with duplicates, then a shuffle of it. */
const arbScenario = fc
  .uniqueArray(arbEvent, { minLength: 1, maxLength: 12, selector: (e) => `${e.source}${e.second}${e.status}${e.providerStatus}` })
  .chain((distinct) => {
    const events: ReducerEvent[] = distinct.map((e, i) => ({
      source: e.source,
      eventId: e.source === 'webhook' || e.source === 'poll' ? `evt_${i}` : null,
      occurredAt: at(e.second),
      status: e.status,
      providerStatus: e.providerStatus,
      reasons: [e.providerStatus],
    }));
    const withDuplicates = fc
      .array(fc.integer({ min: 0, max: events.length - 1 }), { maxLength: 8 })
      .map((extra) => [...events, ...extra.filter((i) => events[i]!.eventId !== null).map((i) => events[i]!)]);
    return fc.tuple(
      fc.constant(events),
      withDuplicates.chain((all) => fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length })),
      fc.boolean(),
    );
  });

function timeSorted(events: ReducerEvent[]): ReducerEvent[] {
  return [...events].sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
}

t.test('property: any permutation of any multiset of events reaches the state of the time-sorted sequence', async (t) => {
  assertProperty(
    t,
    fc.property(arbScenario, ([distinct, shuffled, reverification]) => {
      const policy = { reverification, dedupeWindow: 2000 };
      const sorted = run(timeSorted(distinct), policy).state;
      const arrived = run(shuffled, policy).state;
      return JSON.stringify(finalView(arrived)) === JSON.stringify(finalView(sorted));
    }),
    500,
  );
});

t.test('property: an event that is not applied never changes the status', async (t) => {
  assertProperty(
    t,
    fc.property(arbScenario, ([, shuffled, reverification]) => {
      let state = initialState();
      for (const event of shuffled) {
        const result = applyEvent(state, event, { reverification, dedupeWindow: 2000 });
        const entry = result.effects.find((e) => e.type === 'record');
        if (result.duplicate || (entry?.type === 'record' && !entry.entry.applied)) {
          if (result.state.status !== state.status) return false;
        }
        state = result.state;
      }
      return true;
    }),
    500,
  );
});

t.test('property: after an operator decision, no provider event changes the status', async (t) => {
  assertProperty(
    t,
    fc.property(
      arbScenario,
      fc.constantFrom('approved', 'declined') as fc.Arbitrary<VerificationStatus>,
      fc.integer({ min: 0, max: 40 }),
      ([, shuffled, reverification], decision, second) => {
        const policy = { reverification, dedupeWindow: 2000 };
        const providerEvents = shuffled.filter((e) => e.source !== 'operator');
        const half = Math.floor(providerEvents.length / 2);
        const review: ReducerEvent = {
          source: 'operator',
          eventId: null,
          occurredAt: at(second),
          status: decision,
          providerStatus: null,
          reasons: ['operator_review'],
        };
        const { state } = run([...providerEvents.slice(0, half), review, ...providerEvents.slice(half)], policy);
        return state.status === decision;
      },
    ),
    300,
  );
});

t.test('property: history records every distinct event exactly once, in order', async (t) => {
  assertProperty(
    t,
    fc.property(arbScenario, ([distinct, shuffled, reverification]) => {
      const { entries } = run(shuffled, { reverification, dedupeWindow: 2000 });
      const providerIds = entries.flatMap((e) => (e.eventId ? [e.eventId] : []));
      const expectedIds = new Set(distinct.flatMap((e) => (e.eventId ? [e.eventId] : [])));
      const withoutIds = shuffled.filter((e) => e.eventId === null).length;
      return (
        providerIds.length === expectedIds.size &&
        new Set(providerIds).size === expectedIds.size &&
        entries.length === expectedIds.size + withoutIds &&
        entries.every((e, i) => e.seq === i + 1)
      );
    }),
    500,
  );
});

// ---- issue 11: unconfirmed bodies, revocations, expiry of sessions in review -----------------

t.test('an unconfirmed body is recorded as unconfirmed: never applied, nothing taken from it', async (t) => {
  const first = run([webhook('evt_1', 10, 'pending')], persona).state;
  const result = applyEvent(first, { ...webhook('evt_2', 20, 'approved'), unconfirmed: true, webhookEventId: 'row-2' }, persona);
  t.equal(result.state.status, 'pending');
  t.same(
    result.effects,
    [
      {
        type: 'record',
        entry: {
          seq: 2,
          at: at(20),
          source: 'webhook',
          eventId: 'evt_2',
          from: 'pending',
          to: 'pending',
          applied: false,
          reason: 'unconfirmed',
        },
      },
    ],
    'no document, no status change',
  );
  t.ok(result.state.seenEventIds.includes('evt_2'), 'remembered for dedupe');
});

t.test(
  'a revocation outranks a later read even where re-verification is normal; history shows a read at the time we made it',
  async (t) => {
    const approved = run([webhook('evt_1', 10, 'approved', 'active')], stripe).state;
    const revoked = run([{ ...webhook('evt_2', 20, 'declined', 'deauthorized'), revokes: true }], stripe, approved);
    t.equal(revoked.state.status, 'declined');
    const read: ReducerEvent = {
      source: 'poll',
      eventId: null,
      occurredAt: at(30),
      readAt: at(45),
      status: 'approved',
      providerStatus: 'active',
      reasons: [],
    };
    const after = run([read], stripe, revoked.state);
    t.equal(after.state.status, 'declined');
    t.match(after.entries[0], { applied: false, reason: 'terminal', at: at(45) });
  },
);

t.test('at equal provider times a read beats the events it had seen; reads order by when we made them', async (t) => {
  const read = (readSecond: number, status: VerificationStatus): ReducerEvent => ({
    source: 'poll',
    eventId: null,
    occurredAt: at(10),
    readAt: at(readSecond),
    status,
    providerStatus: status,
    reasons: [],
  });
  t.equal(run([read(50, 'in_progress'), webhook('evt_1', 10, 'approved')], stripe).state.status, 'in_progress');
  t.equal(run([read(51, 'approved'), read(50, 'in_progress')], stripe).state.status, 'approved');
  t.equal(
    run([read(50, 'in_progress'), webhook('evt_2', 11, 'approved')], stripe).state.status,
    'approved',
    'an event newer than anything the read had seen wins',
  );
});

t.test('session expiry: only created and pending expire; a session in progress or in review waits for the provider', async (t) => {
  const now = at(100);
  for (const status of ['created', 'pending'] as const) {
    const state = run([webhook('evt_1', 10, status)], persona).state;
    t.match(atSessionExpiry(state, null, now, persona), [{ source: 'timer', status: 'expired', reasons: ['session_expired'] }], status);
  }
  for (const status of ['in_progress', 'needs_review'] as const) {
    const state = run([webhook('evt_1', 10, status)], persona).state;
    t.same(atSessionExpiry(state, null, now, persona), [], status);
  }
  const pending = run([webhook('evt_1', 10, 'pending')], persona).state;
  const review: ReducerEvent = {
    source: 'poll',
    eventId: null,
    occurredAt: at(10),
    readAt: at(99),
    status: 'needs_review',
    providerStatus: 'needs_review',
    reasons: [],
  };
  t.same(atSessionExpiry(pending, review, now, persona), [review], 'the final read finds a review: no expiry');
});

t.test(
  'property: at session expiry our timer expires only a session left created or pending by the final read; one in progress or in review stays as the provider has it',
  async (t) => {
    const arbFinalRead = fc.option(
      fc.record({ status: fc.constantFrom(...VERIFICATION_STATUSES), second: fc.integer({ min: 0, max: 40 }) }),
      { nil: null },
    );
    assertProperty(
      t,
      fc.property(arbScenario, arbFinalRead, ([, shuffled, reverification], finalRead) => {
        const policy = { reverification, dedupeWindow: 2000 };
        // Expiry runs only while the verification is open; operators only ever decide.
        const { state } = run(
          shuffled.filter((e) => e.source !== 'timer' && e.source !== 'operator'),
          policy,
        );
        if (isTerminalStatus(state.status)) return true;
        const read: ReducerEvent | null = finalRead && {
          source: 'poll',
          eventId: null,
          occurredAt: at(finalRead.second),
          readAt: at(60),
          status: finalRead.status,
          providerStatus: finalRead.status,
          reasons: [],
        };
        const events = atSessionExpiry(state, read, at(100), policy);
        const afterRead = read ? applyEvent(state, read, policy).state.status : state.status;
        const expires = events.some((e) => e.source === 'timer');
        const after = run(events, policy, state).state.status;
        const inReview = afterRead === 'in_progress' || afterRead === 'needs_review';
        return (
          expires === (afterRead === 'created' || afterRead === 'pending') &&
          (expires ? after === 'expired' : after === afterRead) &&
          !(inReview && after === 'expired')
        );
      }),
      500,
    );
  },
);
