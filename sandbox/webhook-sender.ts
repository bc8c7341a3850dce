import type { WebhookChaos } from './chaos.ts';
import type { SandboxLogger } from './http.ts';

// How every simulated provider delivers its webhooks: first attempts in the order sent, each
// failed attempt retried on its own clock by the provider's schedule, chaos applied to first
// attempts only, and close() cancelling what is pending.

const ATTEMPT_TIMEOUT_MS = 10_000;

export interface RetryingSenderOptions {
  /** Log prefix naming the provider and the kind of delivery, e.g. 'persona sandbox: webhook'. */
  what: string;
  /** Wait before each attempt; entry 0 is the first attempt, sent at once. The length bounds the attempts. */
  retryDelaysMs: readonly number[];
  logger: SandboxLogger;
  /** Shuffles, duplicates, delays or drops first attempts when switched on; off when omitted. */
  chaos?: WebhookChaos | undefined;
}

export interface Attempt {
  /** 1 for the first attempt. */
  number: number;
  left: number;
}

export interface OutgoingWebhook {
  target: string;
  /** Built at each attempt: signatures carry the time they are made, so a retry is never too old. */
  request(attempt: Attempt): { headers: Record<string, string>; body: string };
  /** What the log lines say about this delivery besides its outcome. */
  logFields(attempt: Attempt): Record<string, unknown>;
}

export function createRetryingSender(options: RetryingSenderOptions) {
  const maxAttempts = Math.max(1, options.retryDelaysMs.length);
  const shutdown = new AbortController();
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  let firstAttempts: Promise<void> = Promise.resolve();

  function track(work: Promise<void>): void {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  }

  async function attempt(webhook: OutgoingWebhook, number: number): Promise<void> {
    const current = { number, left: maxAttempts - number };
    let outcome: string;
    let delivered = false;
    try {
      const { headers, body } = webhook.request(current);
      const response = await fetch(webhook.target, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.any([shutdown.signal, AbortSignal.timeout(ATTEMPT_TIMEOUT_MS)]),
      });
      await response.arrayBuffer();
      delivered = response.ok;
      outcome = String(response.status);
    } catch (error) {
      outcome = failureReason(error);
    }

    const details = { ...webhook.logFields(current), outcome };
    if (delivered) {
      options.logger.info(details, `${options.what} delivered`);
      return;
    }
    const delay = options.retryDelaysMs[number];
    if (delay === undefined || shutdown.signal.aborted) {
      options.logger.warn(details, `${options.what} not delivered, giving up`);
      return;
    }
    options.logger.warn(details, `${options.what} not delivered, will retry`);
    const timer = setTimeout(() => {
      timers.delete(timer);
      track(attempt(webhook, number + 1));
    }, delay);
    timers.add(timer);
  }

  return {
    /** First attempts go out in order; retries run on their own clocks, so a retried webhook can arrive after a newer one. */
    send(webhook: OutgoingWebhook): void {
      const first = () => attempt(webhook, 1);
      firstAttempts = firstAttempts.then(() => (shutdown.signal.aborted ? undefined : (options.chaos?.dispatch(first) ?? first())));
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
