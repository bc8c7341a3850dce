// A verification's history as it is persisted: the entries the workflow decides and the
// recordEvents activity stores (verification_history rows, the `history` of the public JSON).
// RecordedEffect is that activity's payload, so it is recorded in workflow histories: its shape
// is wire format, changed only with care. The reducer's own effects (workflows/state.ts) are
// mapped to it by the workflow, so refactoring the reducer never changes what is recorded.
import type { EventSource, VerificationStatus } from './verification.ts';

/** Why an event was recorded without changing the status. */
export type IgnoreReason = 'stale' | 'superseded' | 'terminal' | 'operator_decided' | 'unconfirmed';

export interface HistoryEntry {
  /** Order assigned by the workflow; with the verification id, the row's idempotency key. */
  seq: number;
  /** When it happened as a person reads it (for a read of the provider: when we made it). ISO 8601. */
  at: string;
  source: EventSource;
  /** The provider's event id; null for events we generate. */
  eventId: string | null;
  from: VerificationStatus;
  to: VerificationStatus;
  applied: boolean;
  reason: IgnoreReason | null;
}

/** What one recorded batch persists, in the order the workflow decided it. */
export type RecordedEffect =
  | { type: 'record'; entry: HistoryEntry }
  | { type: 'statusChanged'; from: VerificationStatus; to: VerificationStatus }
  /** Document data from the stored payload; stale events only fill gaps, never overwrite. */
  | { type: 'storeDocument'; webhookEventId: string; eventId: string | null; onlyIfMissing: boolean };
