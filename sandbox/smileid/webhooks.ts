import type { WebhookChaos } from '../chaos.ts';
import type { SandboxLogger } from '../http.ts';
import { createRetryingSender } from '../webhook-sender.ts';
import { signedNow } from './signature.ts';

// SmileID posts each result to the callback URL as JSON, the signature inside the body. SmileID
// documents no retry schedule; the sandbox retries a few times (bounded) so lost deliveries are
// visible and the fallback poll has something to recover. Every attempt is signed afresh, as a
// sender that signs at send time would, so a retry is never rejected as too old.

/** The sandbox's own schedule: 4 attempts over about 2.5 minutes. */
export const SMILEID_RETRY_DELAYS_MS: readonly number[] = [0, 5_000, 30_000, 120_000];

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

export function createCallbackSender({ partnerId, apiKey, ...options }: CallbackSenderOptions) {
  const sender = createRetryingSender({ ...options, what: 'smileid sandbox: callback' });
  return {
    /** First attempts go out in order; retries run on their own clocks. */
    send(callback: SmileIdCallback): void {
      sender.send({
        target: callback.target,
        request: () => ({
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ...callback.result, ...signedNow(partnerId, apiKey) }),
        }),
        logFields: (attempt) => ({ refId: callback.refId, resultCode: callback.result.ResultCode, attempt: attempt.number }),
      });
    },
    close: sender.close,
  };
}
