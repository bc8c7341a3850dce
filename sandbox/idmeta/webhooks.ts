import type { WebhookChaos } from '../chaos.ts';
import type { SandboxLogger } from '../http.ts';
import { createRetryingSender } from '../webhook-sender.ts';
import { IDMETA_SIGNATURE_HEADER, idmetaSignatureHeader } from './signature.ts';

/** Immediately, then after 5 s, 30 s, 2 min and 10 min; then the sandbox gives up. */
export const IDMETA_RETRY_DELAYS_MS: readonly number[] = [0, 5_000, 30_000, 120_000, 600_000];

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

export function createIdmetaWebhookSender({ target, secret, ...options }: IdmetaWebhookSenderOptions) {
  const sender = createRetryingSender({ ...options, what: 'idmeta sandbox: webhook' });
  const sent: IdmetaWebhook[] = [];
  return {
    /** First attempts go out in order; retries run on their own clocks (so order is not guaranteed). */
    send(webhook: IdmetaWebhook): void {
      sent.push(webhook);
      if (target === null) return;
      sender.send({
        target,
        request: () => ({
          headers: { 'content-type': 'application/json', [IDMETA_SIGNATURE_HEADER]: idmetaSignatureHeader(secret, webhook.body) },
          body: webhook.body,
        }),
        logFields: (attempt) => ({ eventId: webhook.eventId, event: webhook.event, attempt: attempt.number }),
      });
    },
    /** Every webhook the sandbox produced, in order (for tests and the admin view). */
    sent: (): readonly IdmetaWebhook[] => sent,
    close: sender.close,
  };
}
