import { WebhookSignatureError } from './errors.ts';

// Webhooks are unauthenticated until their signature is checked, so what a header can make us
// compute must be bounded: every HMAC covers the whole body (up to 1 MiB, ~2.5 ms). Rotation
// needs two or three signatures; a header with more is refused before any HMAC.

export const MAX_SIGNATURES_PER_HEADER = 8;

/** Throws WebhookSignatureError when a header carries more signatures (or sets) than are ever considered. */
export function requireFewSignatures(header: string, count: number, what: string): void {
  if (count <= MAX_SIGNATURES_PER_HEADER) return;
  throw new WebhookSignatureError(`${header} carries ${count} ${what}; at most ${MAX_SIGNATURES_PER_HEADER} are considered`);
}
