import { createHmac } from 'node:crypto';

// Signs the way veriflow's IDmeta integration documents it (IDmeta publishes no scheme), written
// separately from providers/idmeta so that a bug in the verifier cannot be mirrored here.

export const IDMETA_SIGNATURE_HEADER = 'X-IDmeta-Signature';

/** Lowercase hex HMAC-SHA256(secret, raw body). */
export function idmetaSignatureHeader(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body, 'utf8').digest('hex');
}
