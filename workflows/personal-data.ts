// Personal-data erasure as workflows: `personalDataErasure` for one verification (DELETE
// …/personal-data starts it and waits), `personalDataRetention` for every verification whose
// decision is older than RETENTION_PERSONAL_DATA (a schedule starts it, wiring/schedules.ts).
// Both erase through the same activity and announce through the same outbound deliveries.
import { ParentClosePolicy, log, proxyActivities, startChild } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.ts';
import { FailureType } from '../domain/failures.ts';
import type { PersonalDataErasureRecord } from '../domain/personal-data-erasure.ts';
import { webhookDeliveryWorkflowId, type PersonalDataErasureInput, type PersonalDataRetentionInput } from './messages.ts';
import { webhookDelivery } from './webhook-delivery.ts';

type Activities = ReturnType<typeof createActivities>;

// The database coming back is all an erasure waits for.
const erasing = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    nonRetryableErrorTypes: [FailureType.verificationNotFound],
  },
});

/** Verifications erased per sweep activity, and sweeps per run (the next scheduled run goes on). */
const SWEEP_BATCH = 50;
const SWEEPS_PER_RUN = 20;

export async function personalDataErasure(input: PersonalDataErasureInput): Promise<PersonalDataErasureRecord> {
  return eraseAndAnnounce(input);
}

export async function personalDataRetention(input: PersonalDataRetentionInput): Promise<{ erased: number }> {
  let erased = 0;
  for (let sweep = 0; sweep < SWEEPS_PER_RUN; sweep++) {
    const due = await erasing.findPersonalDataDue({ retentionMs: input.retentionMs, limit: SWEEP_BATCH });
    for (const verificationId of due) {
      await eraseAndAnnounce({ verificationId, erasedBy: 'retention', apiKeyId: null, retryScheduleMs: input.retryScheduleMs });
    }
    erased += due.length;
    if (due.length < SWEEP_BATCH) break;
  }
  if (erased > 0) log.info('personal data erased by retention', { erased });
  return { erased };
}

async function eraseAndAnnounce(input: PersonalDataErasureInput): Promise<PersonalDataErasureRecord> {
  const { erasure, webhookDeliveryIds } = await erasing.erasePersonalData({
    verificationId: input.verificationId,
    erasedBy: input.erasedBy,
    apiKeyId: input.apiKeyId,
  });
  // Like the verification workflow's events: an abandoned child per delivery, already started after a retry.
  await Promise.all(
    webhookDeliveryIds.map((deliveryId) =>
      startChild(webhookDelivery, {
        workflowId: webhookDeliveryWorkflowId(deliveryId),
        args: [{ deliveryId, generation: 0, retryScheduleMs: input.retryScheduleMs }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      }).catch((err: unknown) => log.warn('webhook delivery not started', { deliveryId, error: String(err) })),
    ),
  );
  return erasure;
}
