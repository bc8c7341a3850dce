// Personal-data erasure, by request (DELETE …/personal-data) and by retention
// (RETENTION_PERSONAL_DATA): the rows are erased and `verification.personal_data_erased` is
// written in one transaction, so an erasure is never recorded without its event.
import { ApplicationFailure } from '@temporalio/common';
import { and, inArray, sql } from 'drizzle-orm';
import { erasePersonalDataRows, type ErasureRequest } from '../db/personal-data.ts';
import { personalDataErasures, verificationHistory, verifications } from '../db/schema/index.ts';
import type { PersonalDataErasureRecord } from '../domain/personal-data-erasure.ts';
import { TERMINAL_STATUSES } from '../domain/verification.ts';
import { FailureType } from '../domain/failures.ts';
import type { ActivityDeps } from './deps.ts';
import { enqueueWebhookEvents } from './outbound-webhooks.ts';

export interface ErasePersonalDataResult {
  erasure: PersonalDataErasureRecord;
  /** The `verification.personal_data_erased` delivery (none without an endpoint); the workflow starts it. */
  webhookDeliveryIds: string[];
}

export function createPersonalDataActivities({ db, logger }: ActivityDeps) {
  return {
    async erasePersonalData(request: ErasureRequest): Promise<ErasePersonalDataResult> {
      const result = await db.transaction(async (tx) => {
        const erasure = await erasePersonalDataRows(tx, request);
        if (!erasure) return null;
        // One erasure event per verification (seq 0): a retried activity finds the same row.
        const webhookDeliveryIds = await enqueueWebhookEvents(tx, request.verificationId, [
          { type: 'verification.personal_data_erased', seq: 0 },
        ]);
        return { erasure, webhookDeliveryIds };
      });
      if (!result) {
        throw ApplicationFailure.create({
          type: FailureType.verificationNotFound,
          message: `Verification ${request.verificationId} not found`,
          nonRetryable: true,
        });
      }
      const { erasure } = result;
      logger.info({ verificationId: request.verificationId, erasedBy: erasure.erasedBy }, 'personal data erased');
      return {
        erasure: {
          verificationId: erasure.verificationId,
          erasedAt: erasure.erasedAt.toISOString(),
          erasedBy: erasure.erasedBy,
          apiKeyId: erasure.apiKeyId,
        },
        webhookDeliveryIds: result.webhookDeliveryIds,
      };
    },

    /** Decided verifications whose decision is older than the retention and whose data is still there, oldest first. */
    async findPersonalDataDue(request: { retentionMs: number; limit: number }): Promise<string[]> {
      const cutoff = new Date(Date.now() - request.retentionMs).toISOString();
      // The decision's time: the newest applied history entry (a later review re-decides and restarts the clock).
      const decidedAt = sql`(select max(h.at) from ${verificationHistory} h where h.verification_id = ${verifications.id} and h.applied)`;
      const rows = await db
        .select({ id: verifications.id })
        .from(verifications)
        .where(
          and(
            inArray(verifications.status, [...TERMINAL_STATUSES]),
            sql`not exists (select 1 from ${personalDataErasures} e where e.verification_id = ${verifications.id})`,
            sql`${decidedAt} <= ${cutoff}::timestamptz`,
          ),
        )
        .orderBy(decidedAt)
        .limit(request.limit);
      return rows.map((r) => r.id);
    },
  };
}
