import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookSignatureError } from '../errors.ts';

// IDmeta does not publish how it signs webhooks (templates carry a `webhook_secret`, nothing
// more). Our scheme, which the sandbox implements independently: header `X-IDmeta-Signature` =
// lowercase hex HMAC-SHA256(secret as given, raw body bytes), optionally prefixed `sha256=`. The
// body carries no timestamp to bound replays, so the signature is only a gate: the workflow reads
// the verification from the API before applying anything (fetchBeforeApply), and event ids dedupe.

export const IDMETA_SIGNATURE_HEADER = 'x-idmeta-signature';

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

export interface VerifyIdmetaSignatureInput {
  /** The body exactly as received: re-serialized JSON would not match. */
  rawBody: Buffer | string;
  header: string | null | undefined;
  /** Several while a secret rotates: a body signed with any of them is accepted. */
  secret: string | readonly string[];
}

export function idmetaSignature(secret: string, rawBody: Buffer | string): string {
  return createHmac('sha256', secret).update(rawBody).digest('hex');
}

/** Throws WebhookSignatureError unless the header is the HMAC of the body under one of the secrets. */
export function verifyIdmetaSignature(input: VerifyIdmetaSignatureInput): void {
  const secrets = (typeof input.secret === 'string' ? [input.secret] : [...input.secret]).filter((s) => s !== '');
  if (secrets.length === 0) throw new WebhookSignatureError('No IDmeta webhook secret is configured');
  const header = input.header?.trim();
  if (header === undefined || header === '') throw new WebhookSignatureError('X-IDmeta-Signature header is missing');
  const hex = header.toLowerCase().startsWith('sha256=') ? header.slice('sha256='.length) : header;
  if (!HEX_SHA256.test(hex)) throw new WebhookSignatureError('X-IDmeta-Signature is not a hex SHA-256 HMAC');

  const given = Buffer.from(hex, 'hex');
  const matches = secrets.some((secret) => {
    const expected = createHmac('sha256', secret).update(input.rawBody).digest();
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
  if (!matches) throw new WebhookSignatureError('X-IDmeta-Signature does not match the body for any configured secret');
}
