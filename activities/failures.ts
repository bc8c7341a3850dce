import { ApplicationFailure } from '@temporalio/common';
import { ProviderRequestError } from '../providers/errors.ts';
import { FailureType } from '../domain/failures.ts';

/**
 * Turn a provider failure into the Temporal failure that makes the retry policy do the right
 * thing: a 4xx the provider will repeat forever stops retrying; a 429 retries when the provider
 * said it may (Retry-After); anything else retries with the policy's backoff.
 */
export function toActivityFailure(err: unknown): unknown {
  if (!(err instanceof ProviderRequestError)) return err;
  const { provider, status, retryable, retryAfterMs } = err.details;
  const message = `${provider} request failed${status === null ? '' : ` with HTTP ${status}`}: ${err.message}`;
  const details = [{ provider, status }];
  if (!retryable) {
    return ApplicationFailure.create({ type: FailureType.providerRejected, message, nonRetryable: true, details });
  }
  return ApplicationFailure.create({
    type: FailureType.providerUnavailable,
    message,
    details,
    ...(retryAfterMs === null ? {} : { nextRetryDelay: retryAfterMs }),
  });
}
