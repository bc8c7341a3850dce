// When a verification next needs the clock, and what a timer that fires does. Pure: the workflow
// passes its schedule and Date.now(), the unit tests any they like.
//
// Three clocks run per verification: session expiry (a final read, then `expired` if the
// applicant never finished), the fallback poll (no webhook for a while: read the provider; every
// provider event pushes it back) and the recheck (a read owed soon: read lag, a body to confirm,
// a failed read; no event pushes it back). Once decided, only the decision window remains.
// The loop waits for the earliest of them on one durable timer (`timerChange`).
import { isTerminalStatus, type VerificationStatus } from '../domain/verification.ts';
import type { ProviderBehaviour } from '../domain/provider-capabilities.ts';
import type { VerificationTimers } from '../domain/timers.ts';
import type { SessionRef } from './messages.ts';
import { expiresWithSession, type ReducerEvent } from './state.ts';

/** A recheck is due within min(poll interval, this). */
export const READ_LAG_RECHECK_MS = 30_000;

/** Everything a deadline depends on. Times are epoch ms on the workflow's clock. */
export interface Schedule {
  status: VerificationStatus;
  session: SessionRef | null;
  nextPollAt: number | null;
  recheckAt: number | null;
  /** When the current decision was made; null while undecided. */
  decidedAt: number | null;
}

export type ScheduleBehaviour = Pick<ProviderBehaviour, 'polling' | 'longLived'>;

/** The next moment a timer must fire, or null when only a message can change anything. */
export function nextDeadline(
  s: Schedule,
  behaviour: ScheduleBehaviour,
  timers: Pick<VerificationTimers, 'decisionWindowMs'>,
): number | null {
  // Decided: only newer decisions can change it, and those arrive as events. A long-lived
  // entity (Stripe account) waits for them indefinitely; others close after the window.
  if (isTerminalStatus(s.status)) return behaviour.longLived || s.decidedAt === null ? null : s.decidedAt + timers.decisionWindowMs;
  const candidates: number[] = [];
  // A session in review at the provider outlives its expiry: polling goes on until a decision.
  if (s.session?.expiresAt && expiresWithSession(s.status)) candidates.push(Date.parse(s.session.expiresAt));
  if (behaviour.polling && s.nextPollAt !== null) candidates.push(s.nextPollAt);
  if (behaviour.polling && s.recheckAt !== null) candidates.push(s.recheckAt);
  return candidates.length ? Math.min(...candidates) : null;
}

/** A decided verification (not a long-lived entity) closes once its decision window has passed. */
export function decisionWindowClosed(
  s: Schedule,
  behaviour: ScheduleBehaviour,
  timers: Pick<VerificationTimers, 'decisionWindowMs'>,
  now: number,
): boolean {
  return !behaviour.longLived && isTerminalStatus(s.status) && s.decidedAt !== null && now >= s.decidedAt + timers.decisionWindowMs;
}

/** The recheck moves earlier, never later: a later event cannot push back a read already owed. */
export function recheckSoon(recheckAt: number | null, now: number, pollIntervalMs: number): number {
  return Math.min(recheckAt ?? Infinity, now + Math.min(pollIntervalMs, READ_LAG_RECHECK_MS));
}

/**
 * What the loop does with its one armed timer (armed for `armedAt`; null: none) before it waits
 * for `deadline` (still ahead; null: none). Every StartTimer and CancelTimer is a history event
 * and every provider event pushes the fallback poll back, so a timer armed no later than the
 * deadline stays: firing early, it finds nothing due and the loop arms the next. A later one
 * would sleep past the deadline. With no deadline it is cancelled rather than left to wake a
 * verification that waits only for messages.
 */
export type TimerChange = { kind: 'keep' } | { kind: 'disarm' } | { kind: 'arm'; at: number };

export function timerChange(armedAt: number | null, deadline: number | null): TimerChange {
  if (deadline === null) return { kind: armedAt === null ? 'keep' : 'disarm' };
  return armedAt !== null && armedAt <= deadline ? { kind: 'keep' } : { kind: 'arm', at: deadline };
}

export type TimerAction =
  /** Nothing is due (woken early, decided, or not a polling provider). */
  | { kind: 'none' }
  /** The session expired unfinished: a final read, then `atSessionExpiry`. */
  | { kind: 'expire' }
  /** Read the provider; the schedule to keep meanwhile. A failed read owes a recheck when `recheckDue`. */
  | { kind: 'read'; recheckDue: boolean; nextPollAt: number | null; recheckAt: number | null };

/** What a timer firing at `now` does. */
export function timerAction(s: Schedule, behaviour: ScheduleBehaviour, pollIntervalMs: number, now: number): TimerAction {
  if (isTerminalStatus(s.status)) return { kind: 'none' };
  if (s.session?.expiresAt && expiresWithSession(s.status) && now >= Date.parse(s.session.expiresAt)) return { kind: 'expire' };
  const recheckDue = s.recheckAt !== null && now >= s.recheckAt;
  const pollDue = s.nextPollAt !== null && now >= s.nextPollAt;
  if (!behaviour.polling || !(recheckDue || pollDue)) return { kind: 'none' };
  return {
    kind: 'read',
    recheckDue,
    nextPollAt: pollDue ? now + pollIntervalMs : s.nextPollAt,
    recheckAt: recheckDue ? null : s.recheckAt,
  };
}

/** A poll that finds nothing new is not an event worth a history row (hourly, forever otherwise). */
export function pollChangesNothing(polled: ReducerEvent, current: { status: VerificationStatus; providerStatus: string | null }): boolean {
  return polled.status === current.status && polled.providerStatus === current.providerStatus;
}
