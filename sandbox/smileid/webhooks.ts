import type { WebhookChaos } from '../chaos.js';
import type { SandboxLogger } from '../http.js';
import { signedNow } from './signature.js';

// SmileID posts each result to the callback URL as JSON, the signature inside the body. SmileID
// documents no retry schedule; the sandbox retries a few times (bounded) so lost deliveries are
// visible and the fallback poll has something to recover. Every attempt is signed afresh, as a
// sender that signs at send time would, so a retry is never rejected as too old.

/** The sandbox's own schedule: 4 attempts over about 2.5 minutes. */
export const SMILEID_RETRY_DELAYS_MS: readonly number[] = [0, 5_000, 30_000, 120_000];

const ATTEMPT_TIMEOUT_MS = 10_000;

export interface SmileIdCallback {
  target: string;
  /** The result without `timestamp` and `signature`: those are added per attempt. */
  result: Record<string, unknown>;
  /** For logs. */
  refId: string;
}

export interface CallbackSenderOptions {
  partnerId: string;
  apiKey: string;
  retryDelaysMs: readonly number[];
  logger: SandboxLogger;
  /** Shuffles, duplicates, delays or drops first attempts when switched on; off when omitted. */
  chaos?: WebhookChaos | undefined;
}

export function createCallbackSender(options: CallbackSenderOptions) {
  const shutdown = new AbortController();
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  let firstAttempts: Promise<void> = Promise.resolve();

  function track(work: Promise<void>): void {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  }

  async function attempt(callback: SmileIdCallback, attemptNumber: number): Promise<void> {
    let outcome: string;
    let delivered = false;
    try {
      const response = await fetch(callback.target, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...callback.result, ...signedNow(options.partnerId, options.apiKey) }),
        signal: AbortSignal.any([shutdown.signal, AbortSignal.timeout(ATTEMPT_TIMEOUT_MS)]),
      });
      await response.arrayBuffer();
      delivered = response.ok;
      outcome = String(response.status);
    } catch (error) {
      outcome = failureReason(error);
    }

    const details = { refId: callback.refId, resultCode: callback.result.ResultCode, attempt: attemptNumber, outcome };
    if (delivered) {
      options.logger.info(details, 'smileid sandbox: callback delivered');
      return;
    }
    const delay = options.retryDelaysMs[attemptNumber];
    if (delay === undefined || shutdown.signal.aborted) {
      options.logger.warn(details, 'smileid sandbox: callback not delivered, giving up');
      return;
    }
    options.logger.warn(details, 'smileid sandbox: callback not delivered, will retry');
    const timer = setTimeout(() => {
      timers.delete(timer);
      track(attempt(callback, attemptNumber + 1));
    }, delay);
    timers.add(timer);
  }

  return {
    /** First attempts go out in order; retries run on their own clocks. */
    send(callback: SmileIdCallback): void {
      const first = () => attempt(callback, 1);
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
