// The pure reducer: one provider-agnostic place that decides what an event does to a
// verification. Deterministic and I/O-free so it runs inside the workflow and under
// property tests alike.
//
// Order independence comes from treating the current status as the *maximum* of every event
// seen so far under one total order (the precedence key below). Max is commutative and
// associative, so any arrival order of the same set of events ends in the same state, and an
// event that loses the comparison (stale, superseded) cannot change the status by
// construction.
import type { HistoryEntry, IgnoreReason } from '../domain/history.ts';
import { isTerminalStatus, type EventSource, type VerificationStatus } from '../domain/verification.ts';

export interface ReducerEvent {
  source: EventSource;
  /** Provider event id; null for events we generate (session created, expiry, operator). */
  eventId: string | null;
  /**
   * On the provider's clock for provider events (its event time; for a state we read, the newest
   * provider event time seen before the read), on ours for our own events. ISO 8601.
   */
  occurredAt: string;
  /**
   * Only for states read from the provider: when we read it, on our clock. Orders reads among
   * themselves, and after the provider events they had already seen.
   */
  readAt?: string;
  status: VerificationStatus;
  providerStatus: string | null;
  reasons: string[];
  /** Stored webhook row, when the event came from a webhook with a payload to mine for documents. */
  webhookEventId?: string | null;
  /**
   * Already known to be older than a provider event we applied (compared on the provider's own
   * clock by the workflow): recorded as stale without competing for the status.
   */
  knownStale?: boolean;
  /** A body no signature covers and no read confirmed: recorded as `unconfirmed`, never applied. */
  unconfirmed?: boolean;
  /**
   * The provider withdrew its decision (Stripe `account.application.deauthorized`): a fact no
   * state read shows, so it outranks reads and re-verification like a provider decision.
   */
  revokes?: boolean;
}

/** Which class of fact an event is. A higher class beats a lower one whatever their times. */
export const PRECEDENCE_CLASS = {
  /** Non-terminal states, and every provider event when re-verification is normal (Stripe). */
  progress: 0,
  /** Terminal states we inferred ourselves (session expiry): a provider decision outranks them. */
  inferredTerminal: 1,
  /** Terminal provider decisions: stay terminal unless a newer provider decision arrives. */
  providerDecision: 2,
  /** Operator review and client cancel: always apply. */
  operator: 3,
} as const;

/** Tiebreak at equal times: terminal > needs_review > in_progress > pending > created, safest decision highest. */
export const STATUS_RANK: Record<VerificationStatus, number> = {
  created: 0,
  pending: 1,
  in_progress: 2,
  needs_review: 3,
  approved: 4,
  expired: 5,
  canceled: 6,
  error: 7,
  declined: 8,
};

export interface PrecedenceKey {
  cls: number;
  /** Epoch milliseconds: the provider's clock for provider events, ours for our own. */
  at: number;
  /** Epoch milliseconds on our clock for reads of the provider; 0 for events. Never compared with `at`. */
  read: number;
  rank: number;
  /** Last-resort tiebreak so the order is total (two events, same time and status). */
  id: string;
}

export interface VerificationState {
  status: VerificationStatus;
  providerStatus: string | null;
  reasons: string[];
  /** The winning event's key; null before the first event. */
  winner: PrecedenceKey | null;
  /** Provider event ids already seen, oldest first, bounded by `dedupeWindow`. */
  seenEventIds: string[];
  /** History entries emitted so far; the next one gets `seq + 1`. */
  seq: number;
}

export interface ReducerPolicy {
  /** Entity providers where a newer non-terminal state legitimately reopens a decision. */
  reverification: boolean;
  /** How many provider event ids to remember for dedupe (carried across continue-as-new). */
  dedupeWindow: number;
}

export type Effect =
  | { type: 'record'; entry: HistoryEntry }
  | { type: 'statusChanged'; from: VerificationStatus; to: VerificationStatus }
  /** Document data from the stored payload; stale events only fill gaps, never overwrite. */
  | { type: 'storeDocument'; webhookEventId: string; eventId: string | null; onlyIfMissing: boolean };

export interface ApplyResult {
  state: VerificationState;
  effects: Effect[];
  /** True when the event id was already seen: nothing recorded, nothing changed. */
  duplicate: boolean;
}

export const DEFAULT_DEDUPE_WINDOW = 2000;

export function initialState(): VerificationState {
  return { status: 'created', providerStatus: null, reasons: [], winner: null, seenEventIds: [], seq: 0 };
}

export function precedenceClass(event: ReducerEvent, policy: ReducerPolicy): number {
  if (event.source === 'operator') return PRECEDENCE_CLASS.operator;
  if (!isTerminalStatus(event.status)) return PRECEDENCE_CLASS.progress;
  if (event.source === 'timer') return PRECEDENCE_CLASS.inferredTerminal;
  return policy.reverification && !event.revokes ? PRECEDENCE_CLASS.progress : PRECEDENCE_CLASS.providerDecision;
}

export function precedenceKey(event: ReducerEvent, policy: ReducerPolicy): PrecedenceKey {
  return {
    cls: precedenceClass(event, policy),
    // Our own session-created record sorts before any provider event, so clock skew between us
    // and the provider can never make a real provider event look stale against it.
    at: event.source === 'api' && !isTerminalStatus(event.status) && event.readAt === undefined ? 0 : Date.parse(event.occurredAt),
    read: event.readAt === undefined ? 0 : Date.parse(event.readAt),
    rank: STATUS_RANK[event.status],
    // Our own events have no id: their whole content is the tiebreak, so equal keys mean equal states.
    id: event.eventId ?? [event.source, event.status, event.occurredAt, event.providerStatus ?? '', ...event.reasons].join('|'),
  };
}

/** Total order on precedence keys: negative when a < b. */
export function compareKeys(a: PrecedenceKey, b: PrecedenceKey): number {
  if (a.cls !== b.cls) return a.cls - b.cls;
  if (a.at !== b.at) return a.at - b.at;
  if (a.read !== b.read) return a.read - b.read;
  if (a.rank !== b.rank) return a.rank - b.rank;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function ignoreReason(candidate: PrecedenceKey, winner: PrecedenceKey): IgnoreReason {
  if (winner.cls === PRECEDENCE_CLASS.operator) return 'operator_decided';
  if (candidate.cls < winner.cls && candidate.at >= winner.at) return 'terminal';
  if (candidate.at < winner.at) return 'stale';
  return 'superseded';
}

function remember(seen: string[], eventId: string | null, window: number): string[] {
  if (eventId === null) return seen;
  const next = [...seen, eventId];
  return next.length > window ? next.slice(next.length - window) : next;
}

export function applyEvent(state: VerificationState, event: ReducerEvent, policy: ReducerPolicy): ApplyResult {
  if (event.eventId !== null && state.seenEventIds.includes(event.eventId)) {
    return { state, effects: [], duplicate: true };
  }
  const key = precedenceKey(event, policy);
  const wins = !event.knownStale && !event.unconfirmed && (state.winner === null || compareKeys(key, state.winner) > 0);
  const seq = state.seq + 1;
  const entry: HistoryEntry = {
    seq,
    // When it happened as a person reads it: a read happened when we made it.
    at: event.readAt ?? event.occurredAt,
    source: event.source,
    eventId: event.eventId,
    from: state.status,
    to: wins ? event.status : state.status,
    applied: wins,
    reason: wins
      ? null
      : event.unconfirmed
        ? 'unconfirmed'
        : event.knownStale
          ? 'stale'
          : state.winner === null
            ? null
            : ignoreReason(key, state.winner),
  };
  const effects: Effect[] = [{ type: 'record', entry }];
  if (wins && event.status !== state.status) {
    effects.push({ type: 'statusChanged', from: state.status, to: event.status });
  }
  // Nothing of an unconfirmed body is taken, not even a missing document field.
  if (event.webhookEventId && !event.unconfirmed) {
    effects.push({ type: 'storeDocument', webhookEventId: event.webhookEventId, eventId: event.eventId, onlyIfMissing: !wins });
  }
  const seenEventIds = remember(state.seenEventIds, event.eventId, policy.dedupeWindow);
  const next: VerificationState = wins
    ? { status: event.status, providerStatus: event.providerStatus, reasons: event.reasons, winner: key, seenEventIds, seq }
    : { ...state, seenEventIds, seq };
  return { state: next, effects, duplicate: false };
}

/**
 * Only a session the applicant never finished expires with it (seed 002 expires PENDING only):
 * one that is in progress or in review at the provider waits for the provider's decision.
 */
export function expiresWithSession(status: VerificationStatus): boolean {
  return status === 'created' || status === 'pending';
}

/**
 * What session expiry applies: the final read of the provider (null when it failed), then our
 * own `expired` only if the session is still one the applicant never finished. `now`: ISO, our clock.
 */
export function atSessionExpiry(
  state: VerificationState,
  finalRead: ReducerEvent | null,
  now: string,
  policy: ReducerPolicy,
): ReducerEvent[] {
  const events = finalRead ? [finalRead] : [];
  const after = finalRead ? applyEvent(state, finalRead, policy).state : state;
  if (!expiresWithSession(after.status)) return events;
  return [
    ...events,
    {
      source: 'timer',
      eventId: null,
      occurredAt: now,
      status: 'expired',
      providerStatus: after.providerStatus,
      reasons: ['session_expired'],
    },
  ];
}
