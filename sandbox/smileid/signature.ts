import { createHmac, timingSafeEqual } from 'node:crypto';

// Signs the way SmileID does, written separately from providers/smileid (which uses the official
// SDK), so the two implementations check each other: base64 HMAC-SHA256 with the API key as key
// over ISO timestamp + partner id + "sid_request".

export function smileIdSignature(partnerId: string, apiKey: string, timestamp: string): string {
  return createHmac('sha256', apiKey).update(timestamp, 'utf8').update(partnerId, 'utf8').update('sid_request', 'utf8').digest('base64');
}

/** `{ timestamp, signature }` to put into a response or callback body. */
export function signedNow(partnerId: string, apiKey: string, at: Date = new Date()): { timestamp: string; signature: string } {
  const timestamp = at.toISOString();
  return { timestamp, signature: smileIdSignature(partnerId, apiKey, timestamp) };
}

/** Whether a request's `{ timestamp, signature }` was made with this partner's key. */
export function isSignedBy(partnerId: string, apiKey: string, timestamp: unknown, signature: unknown): boolean {
  if (typeof timestamp !== 'string' || typeof signature !== 'string' || timestamp === '') return false;
  const expected = Buffer.from(smileIdSignature(partnerId, apiKey, timestamp), 'base64');
  const given = Buffer.from(signature, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
