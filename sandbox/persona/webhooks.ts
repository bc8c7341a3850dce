import type { WebhookChaos } from '../chaos.ts';
import type { SandboxLogger } from '../http.ts';
import { createRetryingSender } from '../webhook-sender.ts';
import { personaSignatureHeader } from './signature.ts';

/** Persona's schedule: 5 attempts, waiting 0, 3, 18, 83 and 258 s before each (about 6 min), then it gives up. */
export const PERSONA_RETRY_DELAYS_MS: readonly number[] = [0, 3_000, 18_000, 83_000, 258_000];

export interface PersonaWebhook {
  eventId: string;
  eventName: string;
  body: string;
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

export function createWebhookSender({ target, secret, ...options }: WebhookSenderOptions) {
  const sender = createRetryingSender({ ...options, what: 'persona sandbox: webhook' });
  return {
    /**
     * First attempts go out one after another in the order given; retries then run on their own
     * clocks, so a retried event can arrive after a newer one, exactly as with Persona.
     */
    send(webhooks: readonly PersonaWebhook[]): void {
      for (const webhook of webhooks) {
        let firstAttemptAt: Date | null = null;
        sender.send({
          target,
          request: (attempt) => {
            const sentAt = new Date();
            firstAttemptAt ??= sentAt;
            return {
              headers: {
                'content-type': 'application/json',
                'persona-signature': personaSignatureHeader(secret, webhook.body, sentAt),
                'persona-webhook-attempts-made': String(attempt.number),
                'persona-webhook-attempts-left': String(attempt.left),
                'persona-webhook-first-attempted-at': String(Math.floor(firstAttemptAt.getTime() / 1000)),
              },
              body: webhook.body,
            };
          },
          logFields: (attempt) => ({ eventId: webhook.eventId, eventName: webhook.eventName, attempt: attempt.number }),
        });
      }
    },
    close: sender.close,
  };
}
