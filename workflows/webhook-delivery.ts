// One outbound webhook delivery: wait its turn, then attempt, wait a durable timer, attempt again,
// until the endpoint answers 2xx or the schedule runs out (dead letter). Started by the
// verification workflow as an abandoned child, so a slow or failing endpoint never holds a
// verification up, and by POST /v1/webhook-deliveries/:id/retry for a manual retry (a new
// generation).
//
// Order: a verification's deliveries are numbered (`seq`) when written; each run starts at once
// but sends nothing while an earlier delivery of its verification is still pending or failing.
// The database says whose turn it is; a run that settles signals the next in line so it need not
// poll, and a rare recheck covers the signal lost to a run not started yet.
import {
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities/index.ts';
import type { WebhookAttemptOutcome } from '../activities/outbound-webhooks.ts';
import { FailureType } from '../domain/failures.ts';
import { deliveryTurnSignal, webhookDeliveryWorkflowId, type WebhookDeliveryInput } from './messages.ts';

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

// Whose turn it is: one indexed read, run as local activities (no task queue round trip per check).
const turns = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10s',
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

/** Only a fallback: the settling predecessor's signal is what normally ends the wait. */
const TURN_RECHECK = '5m';

export async function webhookDelivery(input: WebhookDeliveryInput): Promise<WebhookDeliveryResult> {
  if (!(await waitForTurn(input))) return { outcome: 'superseded', attempts: 0 };
  const result = await attemptUntilSettled(input);
  if (result.outcome !== 'superseded') await releaseNextInLine(input.deliveryId);
  return result;
}

/** False when a manual retry took the delivery over (or it succeeded) while it waited. */
async function waitForTurn(input: WebhookDeliveryInput): Promise<boolean> {
  let released = false;
  setHandler(deliveryTurnSignal, () => {
    released = true;
  });
  for (;;) {
    released = false;
    const turn = await turns.checkDeliveryTurn({ deliveryId: input.deliveryId, generation: input.generation });
    if (turn !== 'wait') return turn === 'go';
    // A predecessor failing for a day keeps this run waiting through many rechecks.
    if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof webhookDelivery>(input);
    await condition(() => released, TURN_RECHECK);
  }
}

async function attemptUntilSettled(input: WebhookDeliveryInput): Promise<WebhookDeliveryResult> {
  const { deliveryId, generation, retryScheduleMs } = input;
  for (let attempt = 1; ; attempt++) {
    const retryInMs = attempt <= retryScheduleMs.length ? retryScheduleMs[attempt - 1]! : null;
    const { outcome } = await delivery.attemptWebhookDelivery({ deliveryId, generation, attempt, retryInMs });
    if (outcome !== 'retrying' || retryInMs === null) return { outcome: outcome === 'retrying' ? 'dead' : outcome, attempts: attempt };
    await sleep(retryInMs);
  }
}

async function releaseNextInLine(deliveryId: string): Promise<void> {
  const next = await turns.nextDeliveryInLine({ deliveryId });
  if (next === null) return;
  try {
    await getExternalWorkflowHandle(webhookDeliveryWorkflowId(next.deliveryId, next.generation)).signal(deliveryTurnSignal);
  } catch {
    // Not started yet (or already gone): it checks its turn when it starts.
  }
}
