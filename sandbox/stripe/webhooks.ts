import type { WebhookChaos } from '../chaos.ts';
import Stripe from 'stripe';
import type { SandboxLogger } from '../http.ts';
import { createRetryingSender } from '../webhook-sender.ts';

// Stripe retries failed deliveries with exponential backoff for up to three days. This is an
// approximation of that schedule (Stripe does not publish exact delays): about 2.7 days.
export const STRIPE_RETRY_DELAYS_MS: readonly number[] = [
  0, 60_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 43_200_000, 43_200_000, 43_200_000, 43_200_000,
];

export interface StripeWebhook {
  eventId: string;
  eventType: string;
  body: string;
}

export interface StripeWebhookSenderOptions {
  /** null: there is nowhere to send (the event is only logged). */
  target: string | null;
  secret: string;
  /** Wait before each attempt; entry 0 is the first attempt, sent at once. The length bounds the attempts. */
  retryDelaysMs: readonly number[];
  logger: SandboxLogger;
  /** Shuffles, duplicates, delays or drops first attempts when switched on; off when omitted. */
  chaos?: WebhookChaos | undefined;
}

/** Stripe-Signature for `body` at `at`, made by the official package exactly as Stripe's would be. */
export function stripeSignatureHeader(secret: string, body: string, at: Date): string {
  return Stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: Math.floor(at.getTime() / 1000) });
}

export function createStripeWebhookSender({ target, secret, ...options }: StripeWebhookSenderOptions) {
  const sender = createRetryingSender({ ...options, what: 'stripe sandbox: webhook' });
  return {
    /** First attempts go out in order; retries run on their own clocks, so order is not guaranteed (as with Stripe). */
    send(webhook: StripeWebhook): void {
      if (target === null) {
        options.logger.warn({ eventId: webhook.eventId }, 'stripe sandbox: no webhook target configured, event not sent');
        return;
      }
      sender.send({
        target,
        // Signed at each attempt, as Stripe does: a retry carries a fresh timestamp.
        request: () => ({
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'stripe-signature': stripeSignatureHeader(secret, webhook.body, new Date()),
            'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          },
          body: webhook.body,
        }),
        logFields: (attempt) => ({
          eventId: webhook.eventId,
          eventType: webhook.eventType,
          attempt: attempt.number,
          attemptsLeft: attempt.left,
        }),
      });
    },
    close: sender.close,
  };
}
