// The verification workflow's durations, in milliseconds: parsed from the environment once
// (config/env.ts timersFromEnv) and passed in the workflow's input. The field names are wire
// format: recorded workflow inputs carry them.

export interface VerificationTimers {
  /** No webhook for this long after the last activity: poll the provider. */
  fallbackPollAfterMs: number;
  /** Then poll this often until terminal. */
  pollIntervalMs: number;
  /** Session lifetime when the provider gives none (or a longer one). */
  sessionTtlMs: number;
  /** After a terminal status the workflow stays open this long for newer provider decisions and operator reviews. */
  decisionWindowMs: number;
  /**
   * Outbound webhook retry waits (OUTBOUND_RETRY_SCHEDULE); absent in inputs written before
   * outbound webhooks, where DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS applies.
   */
  webhookRetryScheduleMs?: number[];
}
