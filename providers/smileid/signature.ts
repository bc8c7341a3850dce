import { Signature } from 'smile-identity-core';
import { WebhookSignatureError } from '../errors.ts';

// SmileID signs with the official scheme of `smile-identity-core`: signature = base64
// HMAC-SHA256(key = API key, message = ISO timestamp + partner id + "sid_request"). The same
// scheme signs our requests, SmileID's job_status responses and its callbacks. It covers the
// timestamp and the partner id only, never the payload: a valid signature proves the sender
// knows our API key, not that the body is what SmileID decided. Hence the adapter confirms every
// callback through the signed job_status API before applying it (capability fetchBeforeApply).

export const SMILEID_SIGNATURE_TOLERANCE_SECONDS = 300;

export interface VerifySmileIdSignatureInput {
  partnerId: string;
  apiKey: string;
  /** The `timestamp` exactly as sent: it is signed as text, so a re-formatted one would not match. */
  timestamp: unknown;
  signature: unknown;
  now?: Date;
  /** SmileID documents none; we bound replay to 5 minutes both ways. */
  toleranceSeconds?: number;
  /** How the failure message names what was checked (`SmileID callback`, …). */
  what?: string;
}

// ISO 8601 date-time, as SmileID and the SDK produce it (`2025-03-14T10:00:00.000Z`).
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const HMAC_SHA256_BYTES = 32;

/** Throws WebhookSignatureError unless `signature` is SmileID's signature of `timestamp`, within tolerance. */
export function verifySmileIdSignature(input: VerifySmileIdSignatureInput): void {
  const what = input.what ?? 'SmileID signature';
  if (input.partnerId === '' || input.apiKey === '') throw new WebhookSignatureError('No SmileID partner id or API key is configured');
  const { timestamp, signature } = input;
  if (timestamp === undefined || timestamp === null || timestamp === '') throw new WebhookSignatureError(`${what} has no timestamp`);
  if (signature === undefined || signature === null || signature === '') throw new WebhookSignatureError(`${what} has no signature`);
  if (typeof timestamp !== 'string' || !ISO_DATE_TIME.test(timestamp) || Number.isNaN(Date.parse(timestamp))) {
    throw new WebhookSignatureError(`${what} timestamp is not an ISO 8601 date-time`);
  }
  if (typeof signature !== 'string' || !isCanonicalBase64(signature))
    throw new WebhookSignatureError(`${what} signature is not a base64 HMAC-SHA256`);

  // Checked before the HMAC, so a replayed old message never learns whether its signature was right.
  const tolerance = input.toleranceSeconds ?? SMILEID_SIGNATURE_TOLERANCE_SECONDS;
  const skew = Math.round(((input.now ?? new Date()).getTime() - Date.parse(timestamp)) / 1000);
  if (Math.abs(skew) > tolerance) {
    const direction = skew > 0 ? `${skew} s old` : `${-skew} s in the future`;
    throw new WebhookSignatureError(`${what} timestamp is ${direction}; tolerance is ${tolerance} s`);
  }

  if (!confirmSmileIdSignature(input.partnerId, input.apiKey, timestamp, signature)) {
    throw new WebhookSignatureError(`${what} does not match the configured partner id and API key`);
  }
}

/**
 * The SDK's own check (`Signature.confirm_signature`, constant-time), without any time limit:
 * for responses to our own requests. Never throws.
 */
export function confirmSmileIdSignature(partnerId: string, apiKey: string, timestamp: unknown, signature: unknown): boolean {
  if (typeof timestamp !== 'string' || typeof signature !== 'string' || !isCanonicalBase64(signature)) return false;
  try {
    return new Signature(partnerId, apiKey).confirm_signature(timestamp, signature);
  } catch {
    // The SDK throws a RangeError for a timestamp `new Date()` cannot read.
    return false;
  }
}

/** `{ timestamp, signature }` for a request we send, signed by the SDK. */
export function signSmileIdRequest(partnerId: string, apiKey: string, at: Date): { timestamp: string; signature: string } {
  const timestamp = at.toISOString();
  return { timestamp, signature: new Signature(partnerId, apiKey).generate_signature(timestamp).signature };
}

// The SDK decodes leniently (Buffer.from ignores junk after the data, and the spare low bits of
// the last character), so several spellings pass its check for one MAC. Only the canonical
// spelling of a 32-byte MAC is accepted here: one signature, one string.
function isCanonicalBase64(value: string): boolean {
  if (!BASE64.test(value)) return false;
  const bytes = Buffer.from(value, 'base64');
  return bytes.length === HMAC_SHA256_BYTES && bytes.toString('base64') === value;
}
