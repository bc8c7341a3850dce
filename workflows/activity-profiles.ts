// The verification workflow's activities, grouped by how they may fail: each profile says how
// long a call may take and how it is retried. Provider calls heartbeat while they run
// (activities/heartbeats.ts): a crashed worker's attempt is retried after the short heartbeat
// timeout, while the start-to-close timeout can allow for a slow provider.
import { ActivityFailure, ApplicationFailure, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.ts';
import { FailureType } from '../domain/failures.ts';

type Activities = ReturnType<typeof createActivities>;

/** A provider that refused the request, or a verification that is gone: retrying cannot help. */
const NON_RETRYABLE = [FailureType.providerRejected, FailureType.verificationNotFound];

/** How long a provider call may go unheard from before Temporal gives its attempt to another worker. */
const PROVIDER_CALL_HEARTBEAT = '5s';

/**
 * Opening the session at the provider (and listing its template's steps): must eventually succeed, so a provider outage only delays
 * it. A regular activity: it can wait on a slow provider, and a draining worker lets it finish.
 */
export const providerCalls = proxyActivities<Pick<Activities, 'createProviderSession' | 'listTemplateSteps'>>({
  startToCloseTimeout: '15s',
  heartbeatTimeout: PROVIDER_CALL_HEARTBEAT,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m', nonRetryableErrorTypes: NON_RETRYABLE },
});

/** Template steps: a provider outage is retried indefinitely with backoff; a 4xx ends the verification in `error`. */
export const templateSteps = proxyActivities<Pick<Activities, 'runTemplateStep' | 'finalizeSession'>>({
  startToCloseTimeout: '30s',
  heartbeatTimeout: PROVIDER_CALL_HEARTBEAT,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: NON_RETRYABLE },
});

// The two calls every webhook makes, read the provider and record the outcome, are local
// activities: short, idempotent, and run by the worker holding the workflow task, they cost the
// Temporal server a marker instead of a schedule/start/complete round trip each (the bench's
// biggest cost).

/** Reading the provider follows a nudge up: if it keeps failing, the workflow falls back to the event itself. */
export const providerReads = proxyLocalActivities<Pick<Activities, 'fetchProviderState'>>({
  startToCloseTimeout: '12s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 5,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

/** Persisting decisions: must eventually succeed, a database outage only delays it. */
export const records = proxyLocalActivities<Pick<Activities, 'recordEvents'>>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m', nonRetryableErrorTypes: NON_RETRYABLE },
});

/** The hosted link by email: an SMTP outage is retried a few times, then recorded as failed. */
export const notifications = proxyActivities<Pick<Activities, 'sendVerificationLinkEmail'>>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
});

/** The ApplicationFailure type behind an activity failure, if any (local activities surface it unwrapped). */
export function failureTypeOf(err: unknown): string | undefined {
  const failure = err instanceof ActivityFailure ? err.cause : err;
  return failure instanceof ApplicationFailure ? (failure.type ?? undefined) : undefined;
}
