// One outbound webhook delivery: attempt, wait a durable timer, attempt again, until the endpoint
// answers 2xx or the schedule runs out (dead letter). Started by the verification workflow as an
// abandoned child, so a slow or failing endpoint never holds a verification up, and by
// POST /v1/webhook-deliveries/:id/retry for a manual retry (a new generation).
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import type { WebhookAttemptOutcome } from '../activities/outbound-webhooks.js';
import { FailureType, type WebhookDeliveryInput } from './messages.js';

type Activities = ReturnType<typeof createActivities>;

// A receiver's failure is an outcome the activity returns; only our own infrastructure failing
// (the database) throws, and that is retried until it comes back.
const delivery = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    nonRetryableErrorTypes: [FailureType.webhookDeliveryNotFound],
  },
});

export interface WebhookDeliveryResult {
  outcome: Exclude<WebhookAttemptOutcome, 'retrying'>;
  /** Attempts made by this run. */
  attempts: number;
}

export async function webhookDelivery(input: WebhookDeliveryInput): Promise<WebhookDeliveryResult> {
  const { deliveryId, generation, retryScheduleMs } = input;
  for (let attempt = 1; ; attempt++) {
    const retryInMs = attempt <= retryScheduleMs.length ? retryScheduleMs[attempt - 1]! : null;
    const { outcome } = await delivery.attemptWebhookDelivery({ deliveryId, generation, attempt, retryInMs });
    if (outcome !== 'retrying' || retryInMs === null) return { outcome: outcome === 'retrying' ? 'dead' : outcome, attempts: attempt };
    await sleep(retryInMs);
  }
}
