// When a verification next needs the clock and what a timer does when it fires
// (workflows/deadlines.ts), as the workflow loop drives them: wait until nextDeadline on the one
// armed timer (timerChange), then timerAction at the time the timer fired.
import fc from 'fast-check';
import t from 'tap';
import { assertProperty } from '../helpers/property.ts';
import { VERIFICATION_STATUSES, isTerminalStatus } from '../../domain/verification.ts';
import {
  READ_LAG_RECHECK_MS,
  decisionWindowClosed,
  nextDeadline,
  pollChangesNothing,
  recheckSoon,
  timerAction,
  timerChange,
  type Schedule,
} from '../../workflows/deadlines.ts';
import type { ReducerEvent } from '../../workflows/state.ts';

const T0 = Date.UTC(2026, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString();
const timers = { decisionWindowMs: 60_000 };
const polling = { polling: true, longLived: false };

function schedule(overrides: Partial<Schedule>): Schedule {
  return { status: 'pending', session: null, nextPollAt: null, recheckAt: null, decidedAt: null, ...overrides };
}

t.test('decided: a verification waits out its decision window; a long-lived entity waits for events only', async (t) => {
  const decided = schedule({ status: 'approved', decidedAt: T0, nextPollAt: T0 + 1, recheckAt: T0 + 1 });
  t.equal(nextDeadline(decided, polling, timers), T0 + 60_000, 'polls and rechecks end with the decision');
  t.equal(nextDeadline(decided, { polling: true, longLived: true }, timers), null);
  t.equal(nextDeadline({ ...decided, decidedAt: null }, polling, timers), null, 'decided in a run that recorded no time');
  t.notOk(decisionWindowClosed(decided, polling, timers, T0 + 59_999));
  t.ok(decisionWindowClosed(decided, polling, timers, T0 + 60_000));
  t.notOk(decisionWindowClosed(decided, { polling: true, longLived: true }, timers, T0 + 10 * 60_000), 'a Stripe account stays open');
  t.notOk(decisionWindowClosed(schedule({ decidedAt: T0 }), polling, timers, T0 + 10 * 60_000), 'undecided: no window');
  t.same(timerAction(decided, polling, 1_000, T0 + 60_000), { kind: 'none' }, 'a timer never changes a decision');
});

t.test('undecided: the earliest of session expiry, fallback poll and recheck', async (t) => {
  const session = { providerRef: 'inq_1', expiresAt: iso(T0 + 30_000) };
  const s = schedule({ session, nextPollAt: T0 + 20_000, recheckAt: T0 + 40_000 });
  t.equal(nextDeadline(s, polling, timers), T0 + 20_000);
  t.equal(nextDeadline({ ...s, nextPollAt: null }, polling, timers), T0 + 30_000);
  t.equal(nextDeadline(s, { polling: false, longLived: false }, timers), T0 + 30_000, 'no polling: only expiry');
  t.equal(nextDeadline({ ...s, status: 'in_progress' }, polling, timers), T0 + 20_000, 'in progress: the session does not expire');
  t.equal(nextDeadline({ ...s, status: 'needs_review', nextPollAt: null, recheckAt: null }, polling, timers), null);
  t.equal(nextDeadline(schedule({ session: { providerRef: 'acct_1', expiresAt: null } }), polling, timers), null);
});

t.test('a timer expires an unfinished session, otherwise reads the provider for a due poll or recheck', async (t) => {
  const session = { providerRef: 'inq_1', expiresAt: iso(T0 + 30_000) };
  t.same(timerAction(schedule({ session, nextPollAt: T0 }), polling, 5_000, T0 + 30_000), { kind: 'expire' }, 'expiry comes first');
  t.same(
    timerAction(schedule({ status: 'needs_review', session, nextPollAt: T0 }), polling, 5_000, T0 + 30_000),
    { kind: 'read', recheckDue: false, nextPollAt: T0 + 35_000, recheckAt: null },
    'in review at the provider: polled past expiry',
  );
  t.same(timerAction(schedule({ nextPollAt: T0, recheckAt: T0 + 9_000 }), polling, 5_000, T0 + 1_000), {
    kind: 'read',
    recheckDue: false,
    nextPollAt: T0 + 6_000,
    recheckAt: T0 + 9_000,
  });
  t.same(timerAction(schedule({ nextPollAt: T0 + 9_000, recheckAt: T0 }), polling, 5_000, T0 + 1_000), {
    kind: 'read',
    recheckDue: true,
    nextPollAt: T0 + 9_000,
    recheckAt: null,
  });
  t.same(timerAction(schedule({ nextPollAt: T0 }), { polling: false, longLived: false }, 5_000, T0), { kind: 'none' });
  t.same(timerAction(schedule({ nextPollAt: T0 + 1 }), polling, 5_000, T0), { kind: 'none' }, 'woken early');
});

t.test('a recheck is due within min(poll interval, 30 s) and never moves later', async (t) => {
  t.equal(recheckSoon(null, T0, 3_600_000), T0 + READ_LAG_RECHECK_MS);
  t.equal(recheckSoon(null, T0, 2_000), T0 + 2_000);
  t.equal(recheckSoon(T0 + 1_000, T0, 3_600_000), T0 + 1_000, 'a recheck already owed sooner stays');
});

t.test('the armed timer stays while the deadline is where it was or later, and moves only earlier', async (t) => {
  t.same(timerChange(null, T0 + 1_000), { kind: 'arm', at: T0 + 1_000 }, 'nothing armed: arm for the deadline');
  t.same(timerChange(T0 + 1_000, T0 + 1_000), { kind: 'keep' }, 'a message that left the deadline where it was');
  t.same(timerChange(T0 + 1_000, T0 + 5_000), { kind: 'keep' }, 'a webhook pushed the fallback poll back: fire early, then arm again');
  t.same(timerChange(T0 + 5_000, T0 + 1_000), { kind: 'arm', at: T0 + 1_000 }, 'a recheck owed sooner: cancel and arm earlier');
  t.same(timerChange(T0 + 5_000, null), { kind: 'disarm' }, 'no deadline any more (a decided Stripe account)');
  t.same(timerChange(null, null), { kind: 'keep' }, 'nothing armed, nothing to wait for');
});

t.test('a poll that finds the status and provider status unchanged changes nothing', async (t) => {
  const polled: ReducerEvent = {
    source: 'poll',
    eventId: null,
    occurredAt: iso(T0),
    status: 'pending',
    providerStatus: 'created',
    reasons: [],
  };
  t.ok(pollChangesNothing(polled, { status: 'pending', providerStatus: 'created' }));
  t.notOk(pollChangesNothing(polled, { status: 'pending', providerStatus: 'pending' }), 'a new provider status is worth a row');
  t.notOk(pollChangesNothing(polled, { status: 'in_progress', providerStatus: 'created' }));
});

// ---- properties -------------------------------------------------------------------------

const maybeTime = fc.option(fc.integer({ min: T0, max: T0 + 100_000 }), { nil: null });
const arbSchedule: fc.Arbitrary<Schedule> = fc.record({
  status: fc.constantFrom(...VERIFICATION_STATUSES),
  session: fc.option(
    fc.record({
      providerRef: fc.constant('ref'),
      expiresAt: fc.option(
        maybeTime.map((ms) => (ms === null ? null : iso(ms))),
        { nil: null },
      ),
    }),
    { nil: null },
  ),
  nextPollAt: maybeTime,
  recheckAt: maybeTime,
  decidedAt: maybeTime,
});
const arbBehaviour = fc.record({ polling: fc.boolean(), longLived: fc.boolean() });
const arbNow = fc.integer({ min: T0 - 1_000, max: T0 + 200_000 });
const arbPollInterval = fc.integer({ min: 1, max: 100_000 });
// Preconditions discard many generated schedules, so these properties get more runs than the default.
const RUNS = 1000;

t.test('property: a timer that fires before the deadline does nothing', async (t) => {
  assertProperty(
    t,
    fc.property(arbSchedule, arbBehaviour, arbPollInterval, arbNow, (s, behaviour, interval, now) => {
      const deadline = nextDeadline(s, behaviour, timers);
      fc.pre(deadline === null || now < deadline);
      return timerAction(s, behaviour, interval, now).kind === 'none';
    }),
    RUNS,
  );
});

t.test('property: undecided, a timer that fires at or after the deadline acts', async (t) => {
  assertProperty(
    t,
    fc.property(arbSchedule, arbBehaviour, arbPollInterval, arbNow, (s, behaviour, interval, now) => {
      const deadline = nextDeadline(s, behaviour, timers);
      fc.pre(!isTerminalStatus(s.status) && deadline !== null && now >= deadline);
      return timerAction(s, behaviour, interval, now).kind !== 'none';
    }),
    RUNS,
  );
});

t.test('property: after a read, no deadline is already due (the loop never spins)', async (t) => {
  assertProperty(
    t,
    fc.property(arbSchedule, arbBehaviour, arbPollInterval, arbNow, (s, behaviour, interval, now) => {
      const action = timerAction(s, behaviour, interval, now);
      fc.pre(action.kind === 'read');
      if (action.kind !== 'read') return true;
      const after = nextDeadline({ ...s, nextPollAt: action.nextPollAt, recheckAt: action.recheckAt }, behaviour, timers);
      return after === null || after > now;
    }),
    RUNS,
  );
});

t.test('property: a recheck is never later than one already owed, nor than min(poll interval, 30 s) from now', async (t) => {
  assertProperty(
    t,
    fc.property(maybeTime, arbNow, arbPollInterval, (owed, now, interval) => {
      const at = recheckSoon(owed, now, interval);
      return at <= now + Math.min(interval, READ_LAG_RECHECK_MS) && (owed === null || at <= owed);
    }),
    RUNS,
  );
});

t.test('property: the timer never sleeps past the deadline, and a deadline that stays or moves later costs no timer event', async (t) => {
  assertProperty(
    t,
    fc.property(maybeTime, maybeTime, (armedAt, deadline) => {
      const change = timerChange(armedAt, deadline);
      const waitsFor = change.kind === 'arm' ? change.at : change.kind === 'keep' ? armedAt : null;
      if (deadline === null) return waitsFor === null;
      const stays = armedAt !== null && armedAt <= deadline;
      return waitsFor !== null && waitsFor <= deadline && (change.kind === 'keep') === stays;
    }),
    RUNS,
  );
});
