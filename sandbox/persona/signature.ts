import { createHmac } from 'node:crypto';

// Signs the way Persona does, written separately from providers/persona so that a bug in our
// verifier cannot be mirrored here and pass unnoticed.

/** `Persona-Signature` header value: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "t.body")>`. */
export function personaSignatureHeader(secret: string, body: string, at: Date): string {
  const timestamp = Math.floor(at.getTime() / 1000);
  const digest = createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${digest}`;
}
