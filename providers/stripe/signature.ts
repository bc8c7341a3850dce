import Stripe from 'stripe';
import { WebhookSignatureError } from '../errors.ts';
import { requireFewSignatures } from '../signature-limits.ts';

// Stripe-Signature: `t=<unix>,v1=<hex>[,v1=…]` (v0 is ignored); v1 = hex HMAC-SHA256(the
// `whsec_…` string as given, `${t}.${rawBody}`). The official package does the HMAC and the
// "too old" check; it does not reject timestamps in the future, so that check is ours.

export const STRIPE_SIGNATURE_HEADER = 'stripe-signature';
export const STRIPE_TOLERANCE_SECONDS = 300;

export interface VerifyStripeSignatureInput {
  /** The body exactly as received: re-serialized JSON would not match. */
  rawBody: Buffer | string;
  header: string | null | undefined;
  /** Several while we roll our endpoint secret: a webhook signed with any of them is accepted. */
  secret: string | readonly string[];
  now?: Date;
  toleranceSeconds?: number;
}

// Only the timestamp is read here (for the tolerance check); everything else is the package's job.
const UNIX_SECONDS = /^\d{1,12}$/;

/** Throws WebhookSignatureError unless the header is a timely Stripe signature of the body by one of the secrets. */
export function verifyStripeSignature(input: VerifyStripeSignatureInput): void {
  const secrets = (typeof input.secret === 'string' ? [input.secret] : [...input.secret]).filter((s) => s.trim() !== '');
  if (secrets.length === 0) throw new WebhookSignatureError('No Stripe webhook secret is configured');

  const header = input.header?.trim();
  if (header === undefined || header === '') throw new WebhookSignatureError('Stripe-Signature header is missing');
  // The package only refuses an empty *string* payload; an empty Buffer would reach the HMAC.
  if (input.rawBody.length === 0) throw new WebhookSignatureError('Stripe webhook body is empty');

  const now = input.now ?? new Date();
  const tolerance = input.toleranceSeconds ?? STRIPE_TOLERANCE_SECONDS;
  const timestamp = headerTimestamp(header);
  // Bounded before the package sees it: it compares every v1 it is given.
  requireFewSignatures('Stripe-Signature', headerItems(header).filter(([key]) => key === 'v1').length, 'signatures');
  // Both directions are checked before any HMAC, so a replayed header learns nothing about its
  // signature and the answer does not depend on which secret happens to match. verifyHeader
  // checks the age again (same tolerance); the future is ours alone.
  const skew = Math.floor(now.getTime() / 1000) - timestamp;
  if (skew > tolerance) throw new WebhookSignatureError(`Stripe-Signature timestamp is ${skew} s old; tolerance is ${tolerance} s`);
  if (-skew > tolerance)
    throw new WebhookSignatureError(`Stripe-Signature timestamp is ${-skew} s in the future; tolerance is ${tolerance} s`);

  let failure: string | null = null;
  for (const secret of secrets) {
    failure = tryVerifyHeader(input.rawBody, header, secret, tolerance, now);
    if (failure === null) return;
  }
  throw new WebhookSignatureError(failure ?? 'Stripe-Signature could not be verified');
}

/**
 * The header's `t`, split exactly as the package splits it (`,` then `=`). Exactly one is
 * allowed: the package signs with the *last* one, so a second `t` could slip past a check made
 * on the first.
 */
function headerTimestamp(header: string): number {
  const values = headerItems(header).flatMap(([key, value]) => (key === 't' ? [value ?? ''] : []));
  if (values.length !== 1 || !UNIX_SECONDS.test(values[0]!)) {
    throw new WebhookSignatureError('Stripe-Signature is malformed: expected exactly one t=<unix seconds>');
  }
  return Number(values[0]);
}

/** `key=value` items split exactly as the package splits them (`,` then `=`). */
function headerItems(header: string): [string, string | undefined][] {
  return header.split(',').map((item) => {
    const [key = '', value] = item.split('=');
    return [key, value];
  });
}

/** null when this secret verifies the header; else why not, in words that never include the secret or body. */
function tryVerifyHeader(rawBody: Buffer | string, header: string, secret: string, tolerance: number, now: Date): string | null {
  try {
    // The package's own check, without constructEvent's JSON parse: parsing is parseStripeWebhook's
    // job (a thin v2 event or a body that is not JSON is authentic all the same). Called as a
    // method: verifyHeader reads `this.EXPECTED_SCHEME`.
    Stripe.webhooks.signature!.verifyHeader(rawBody, header, secret, tolerance, undefined, now.getTime());
    return null;
  } catch (error) {
    if (error instanceof Stripe.errors.StripeSignatureVerificationError) return describe(error.message, tolerance);
    return `Stripe-Signature could not be verified: ${error instanceof Error ? error.message : String(error)}`;
  }
}

// The package's messages are long and point at its docs; ours name the problem in one line.
function describe(message: string, tolerance: number): string {
  if (message.startsWith('No signatures found matching')) return 'Stripe-Signature does not match the body for any configured secret';
  if (message.startsWith('Timestamp outside the tolerance zone')) return `Stripe-Signature timestamp is more than ${tolerance} s old`;
  if (message.startsWith('Unable to extract timestamp')) return 'Stripe-Signature is malformed: expected t=<unix>,v1=<hex>';
  if (message.startsWith('No signatures found with expected scheme')) return 'Stripe-Signature has no v1 signature';
  if (message.startsWith('No stripe-signature header')) return 'Stripe-Signature header is missing';
  if (message.startsWith('No webhook payload')) return 'Stripe webhook body is empty';
  return `Stripe-Signature rejected: ${message.split('\n')[0]}`;
}
