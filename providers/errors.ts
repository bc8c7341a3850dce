// Typed failures in undici's style: a class per kind with a stable `code`, so callers branch on
// codes and never on message text.

export class ProviderError extends Error {
  readonly code: string = 'VF_PROVIDER_ERROR';
}

/** Missing, malformed or wrong signature, or a timestamp outside tolerance. */
export class WebhookSignatureError extends ProviderError {
  override readonly code = 'VF_WEBHOOK_SIGNATURE';
  override readonly name = 'WebhookSignatureError';
}

/** Signed correctly but not the shape the provider documents. */
export class MalformedWebhookError extends ProviderError {
  override readonly code = 'VF_WEBHOOK_MALFORMED';
  override readonly name = 'MalformedWebhookError';
}

/** A provider API call failed. `retryable` says whether trying again can help. */
export class ProviderRequestError extends ProviderError {
  override readonly code = 'VF_PROVIDER_REQUEST';
  override readonly name = 'ProviderRequestError';
  readonly details: { provider: string; status: number | null; retryable: boolean; retryAfterMs: number | null };
  constructor(message: string, details: ProviderRequestError['details']) {
    super(message);
    this.details = details;
  }
}

/** The provider rejected the request itself (4xx other than 408/429): retrying cannot help. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
