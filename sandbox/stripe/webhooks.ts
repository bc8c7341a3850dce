import type { WebhookChaos } from '../chaos.js';
import Stripe from 'stripe';
import type { SandboxLogger } from '../http.js';

// Stripe retries failed deliveries with exponential backoff for up to three days. This is an
// approximation of that schedule (Stripe does not publish exact delays): about 2.7 days.
export const STRIPE_RETRY_DELAYS_MS: readonly number[] = [
  0, 60_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 43_200_000, 43_200_000, 43_200_000, 43_200_000,
];

const ATTEMPT_TIMEOUT_MS = 10_000;

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

export function createStripeWebhookSender(options: StripeWebhookSenderOptions) {
  const maxAttempts = Math.max(1, options.retryDelaysMs.length);
  const shutdown = new AbortController();
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  let firstAttempts: Promise<void> = Promise.resolve();

  function track(work: Promise<void>): void {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  }

  async function attempt(target: string, webhook: StripeWebhook, attemptNumber: number): Promise<void> {
    let outcome: string;
    let delivered = false;
    try {
      // Signed at each attempt, as Stripe does: a retry carries a fresh timestamp.
      const response = await fetch(target, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'stripe-signature': stripeSignatureHeader(options.secret, webhook.body, new Date()),
          'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
        },
        body: webhook.body,
        signal: AbortSignal.any([shutdown.signal, AbortSignal.timeout(ATTEMPT_TIMEOUT_MS)]),
      });
      await response.arrayBuffer();
      delivered = response.ok;
      outcome = String(response.status);
    } catch (error) {
      outcome = failureReason(error);
    }

    const details = {
      eventId: webhook.eventId,
      eventType: webhook.eventType,
      attempt: attemptNumber,
      attemptsLeft: maxAttempts - attemptNumber,
      outcome,
    };
    if (delivered) {
      options.logger.info(details, 'stripe sandbox: webhook delivered');
      return;
    }
    const delay = options.retryDelaysMs[attemptNumber];
    if (delay === undefined || shutdown.signal.aborted) {
      options.logger.warn(details, 'stripe sandbox: webhook not delivered, giving up');
      return;
    }
    options.logger.warn(details, 'stripe sandbox: webhook not delivered, will retry');
    const timer = setTimeout(() => {
      timers.delete(timer);
      track(attempt(target, webhook, attemptNumber + 1));
    }, delay);
    timers.add(timer);
  }

  return {
    /** First attempts go out in order; retries run on their own clocks, so order is not guaranteed (as with Stripe). */
    send(webhook: StripeWebhook): void {
      const target = options.target;
      if (target === null) {
        options.logger.warn({ eventId: webhook.eventId }, 'stripe sandbox: no webhook target configured, event not sent');
        return;
      }
      firstAttempts = firstAttempts.then(async () => {
        if (shutdown.signal.aborted) return;
        const first = () => attempt(target, webhook, 1);
        await (options.chaos?.dispatch(first) ?? first());
      });
      track(firstAttempts);
    },

    async close(): Promise<void> {
      shutdown.abort();
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.allSettled([...inFlight]);
    },
  };
}

/** fetch reports every network failure as `TypeError: fetch failed`; the useful part is its cause. */
function failureReason(error: unknown): string {
  const cause: unknown = error instanceof Error ? error.cause : undefined;
  if (typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string') return cause.code;
  if (cause instanceof Error) return cause.message;
  return error instanceof Error ? error.name : String(error);
}
