import { createHmac, timingSafeEqual } from 'node:crypto';

// Stripe onboarding links are single-use and expire within minutes; Stripe then sends the user
// to the link's refresh_url, which must mint a new one. That URL is ours and public, so it
// carries an HMAC of the verification id: only links we handed out can mint new ones.

export const STRIPE_REFRESH_PATH = '/sessions/stripe/refresh';
export const STRIPE_RETURN_PATH = '/sessions/stripe/return';

// Domain-separated, so a token for this purpose is never valid for another use of the same secret.
const PURPOSE = 'veriflow:stripe-refresh:v1';

export function stripeRefreshToken(secret: string, verificationId: string): string {
  return createHmac('sha256', secret).update(`${PURPOSE}:${verificationId.toLowerCase()}`).digest('base64url');
}

/** Constant-time check of a token from a refresh URL. */
export function isValidStripeRefreshToken(secret: string, verificationId: string, token: string): boolean {
  const expected = Buffer.from(stripeRefreshToken(secret, verificationId));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function stripeRefreshUrl(publicBaseUrl: string, secret: string, verificationId: string): string {
  const query = new URLSearchParams({ verification: verificationId, token: stripeRefreshToken(secret, verificationId) });
  return `${publicBaseUrl.replace(/\/+$/, '')}${STRIPE_REFRESH_PATH}?${query}`;
}

export function stripeReturnUrl(publicBaseUrl: string, verificationId: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}${STRIPE_RETURN_PATH}?${new URLSearchParams({ verification: verificationId })}`;
}
