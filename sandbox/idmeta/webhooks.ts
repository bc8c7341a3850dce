import type { WebhookChaos } from '../chaos.js';
import type { SandboxLogger } from '../http.js';
import { IDMETA_SIGNATURE_HEADER, idmetaSignatureHeader } from './signature.js';

/** Immediately, then after 5 s, 30 s, 2 min and 10 min; then the sandbox gives up. */
export const IDMETA_RETRY_DELAYS_MS: readonly number[] = [0, 5_000, 30_000, 120_000, 600_000];

const ATTEMPT_TIMEOUT_MS = 10_000;

export interface IdmetaWebhook {
  eventId: string;
  event: string;
  body: string;
}

export interface IdmetaWebhookSenderOptions {
  /** No target: webhooks are not sent (the API still works). */
  target: string | null;
  secret: string;
  retryDelaysMs: readonly number[];
  logger: SandboxLogger;
  /** Shuffles, duplicates, delays or drops first attempts when switched on; off when omitted. */
  chaos?: WebhookChaos | undefined;
}

export function createIdmetaWebhookSender(options: IdmetaWebhookSenderOptions) {
  const shutdown = new AbortController();
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  let queue: Promise<void> = Promise.resolve();
  const sent: IdmetaWebhook[] = [];

  function track(work: Promise<void>): void {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  }

  async function attempt(target: string, webhook: IdmetaWebhook, attemptNumber: number): Promise<void> {
    let outcome: string;
    let delivered = false;
    try {
      const response = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [IDMETA_SIGNATURE_HEADER]: idmetaSignatureHeader(options.secret, webhook.body) },
        body: webhook.body,
        signal: AbortSignal.any([shutdown.signal, AbortSignal.timeout(ATTEMPT_TIMEOUT_MS)]),
      });
      await response.arrayBuffer();
      delivered = response.ok;
      outcome = String(response.status);
    } catch (error) {
      const cause: unknown = error instanceof Error ? error.cause : undefined;
      outcome =
        typeof cause === 'object' && cause !== null && 'code' in cause
          ? String(cause.code)
          : error instanceof Error
            ? error.name
            : String(error);
    }
    const details = { eventId: webhook.eventId, event: webhook.event, attempt: attemptNumber, outcome };
    if (delivered) {
      options.logger.info(details, 'idmeta sandbox: webhook delivered');
      return;
    }
    const delay = options.retryDelaysMs[attemptNumber];
    if (delay === undefined || shutdown.signal.aborted) {
      options.logger.warn(details, 'idmeta sandbox: webhook not delivered, giving up');
      return;
    }
    options.logger.warn(details, 'idmeta sandbox: webhook not delivered, will retry');
    const timer = setTimeout(() => {
      timers.delete(timer);
      track(attempt(target, webhook, attemptNumber + 1));
    }, delay);
    timers.add(timer);
  }

  return {
    /** First attempts go out in order; retries run on their own clocks (so order is not guaranteed). */
    send(webhook: IdmetaWebhook): void {
      sent.push(webhook);
      const target = options.target;
      if (target === null) return;
      const first = () => attempt(target, webhook, 1);
      queue = queue.then(() => (shutdown.signal.aborted ? undefined : (options.chaos?.dispatch(first) ?? first())));
      track(queue);
    },
    /** Every webhook the sandbox produced, in order (for tests and the admin view). */
    sent: (): readonly IdmetaWebhook[] => sent,
    async close(): Promise<void> {
      shutdown.abort();
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.allSettled([...inFlight]);
    },
  };
}
