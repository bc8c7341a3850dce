import { createHmac, timingSafeEqual } from 'node:crypto';

// Stripe onboarding links are single-use and expire within minutes; Stripe then sends the user
// to the link's refresh_url, which must mint a new one. That URL is ours and public, so it
// carries an HMAC over the verification id, the Stripe account it was issued for and its expiry:
// only links we handed out mint new ones, for that account only, and not forever.

export const STRIPE_REFRESH_PATH = '/sessions/stripe/refresh';
export const STRIPE_RETURN_PATH = '/sessions/stripe/return';

/** How long a refresh URL mints links: an applicant may come back to an open onboarding tab days later. */
export const STRIPE_REFRESH_LINK_TTL_MS = 7 * 24 * 3_600_000;

// Domain-separated, so a token for this purpose is never valid for another use of the same secret.
const PURPOSE = 'veriflow:stripe-refresh:v2';

export interface StripeRefreshClaims {
  verificationId: string;
  /** The Stripe account (acct_…) the onboarding link was created for. */
  accountId: string;
  expiresAt: Date;
}

const expirySeconds = (at: Date) => Math.floor(at.getTime() / 1000);

export function stripeRefreshToken(secret: string, { verificationId, accountId, expiresAt }: StripeRefreshClaims): string {
  return createHmac('sha256', secret)
    .update(`${PURPOSE}:${verificationId.toLowerCase()}:${accountId}:${expirySeconds(expiresAt)}`)
    .digest('base64url');
}

/** Constant-time check that the token was issued by us for exactly these claims (expiry checked separately). */
export function isValidStripeRefreshToken(secret: string, claims: StripeRefreshClaims, token: string): boolean {
  const expected = Buffer.from(stripeRefreshToken(secret, claims));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function stripeRefreshUrl(publicBaseUrl: string, secret: string, claims: StripeRefreshClaims): string {
  const query = new URLSearchParams({
    verification: claims.verificationId,
    account: claims.accountId,
    expires: String(expirySeconds(claims.expiresAt)),
    token: stripeRefreshToken(secret, claims),
  });
  return `${publicBaseUrl.replace(/\/+$/, '')}${STRIPE_REFRESH_PATH}?${query}`;
}

export function stripeReturnUrl(publicBaseUrl: string, verificationId: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}${STRIPE_RETURN_PATH}?${new URLSearchParams({ verification: verificationId })}`;
}
