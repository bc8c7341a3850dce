import type { WebhookChaos } from '../chaos.js';
import type { SandboxLogger } from '../http.js';
import { personaSignatureHeader } from './signature.js';

/** Persona's schedule: 5 attempts, waiting 0, 3, 18, 83 and 258 s before each (about 6 min), then it gives up. */
export const PERSONA_RETRY_DELAYS_MS: readonly number[] = [0, 3_000, 18_000, 83_000, 258_000];

const ATTEMPT_TIMEOUT_MS = 10_000;

export interface PersonaWebhook {
  eventId: string;
  eventName: string;
  body: string;
}

interface Delivery extends PersonaWebhook {
  firstAttemptAt: Date | null;
}

export interface WebhookSenderOptions {
  target: string;
  secret: string;
  /** Wait before each attempt; entry 0 is the first attempt, sent at once. The length bounds the attempts. */
  retryDelaysMs: readonly number[];
  logger: SandboxLogger;
  /** Shuffles, duplicates, delays or drops first attempts when switched on; off when omitted. */
  chaos?: WebhookChaos | undefined;
}

export function createWebhookSender(options: WebhookSenderOptions) {
  const maxAttempts = Math.max(1, options.retryDelaysMs.length);
  const shutdown = new AbortController();
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  let firstAttempts: Promise<void> = Promise.resolve();

  function track(work: Promise<void>): void {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  }

  async function attempt(delivery: Delivery, attemptNumber: number): Promise<void> {
    const sentAt = new Date();
    delivery.firstAttemptAt ??= sentAt;
    let outcome: string;
    let delivered = false;
    try {
      const response = await fetch(options.target, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'persona-signature': personaSignatureHeader(options.secret, delivery.body, sentAt),
          'persona-webhook-attempts-made': String(attemptNumber),
          'persona-webhook-attempts-left': String(maxAttempts - attemptNumber),
          'persona-webhook-first-attempted-at': String(Math.floor(delivery.firstAttemptAt.getTime() / 1000)),
        },
        body: delivery.body,
        signal: AbortSignal.any([shutdown.signal, AbortSignal.timeout(ATTEMPT_TIMEOUT_MS)]),
      });
      await response.arrayBuffer();
      delivered = response.ok;
      outcome = String(response.status);
    } catch (error) {
      outcome = failureReason(error);
    }

    const details = { eventId: delivery.eventId, eventName: delivery.eventName, attempt: attemptNumber, outcome };
    if (delivered) {
      options.logger.info(details, 'persona sandbox: webhook delivered');
      return;
    }
    const delay = options.retryDelaysMs[attemptNumber];
    if (delay === undefined || shutdown.signal.aborted) {
      options.logger.warn(details, 'persona sandbox: webhook not delivered, giving up');
      return;
    }
    options.logger.warn(details, 'persona sandbox: webhook not delivered, will retry');
    const timer = setTimeout(() => {
      timers.delete(timer);
      track(attempt(delivery, attemptNumber + 1));
    }, delay);
    timers.add(timer);
  }

  return {
    /**
     * First attempts go out one after another in the order given; retries then run on their own
     * clocks, so a retried event can arrive after a newer one, exactly as with Persona.
     */
    send(webhooks: readonly PersonaWebhook[]): void {
      firstAttempts = firstAttempts.then(async () => {
        for (const webhook of webhooks) {
          if (shutdown.signal.aborted) return;
          const first = () => attempt({ ...webhook, firstAttemptAt: null }, 1);
          await (options.chaos?.dispatch(first) ?? first());
        }
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
