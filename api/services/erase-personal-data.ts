// DELETE /v1/verifications/:id/personal-data: the erasure runs as a workflow (the same activity
// the retention sweep uses, and the outbound event with it); the request waits for its record.
// Idempotent like Stripe's DELETE: a repeat answers the same record without touching Temporal.
import type { Static } from '@sinclair/typebox';
import { WorkflowFailedError } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { findErasure } from '../../db/personal-data.ts';
import { apiKeys, type PersonalDataErasure } from '../../db/schema/index.ts';
import type { PersonalDataErasureRecord } from '../../domain/personal-data-erasure.ts';
import {
  PERSONAL_DATA_ERASURE_WORKFLOW_TYPE,
  personalDataErasureWorkflowId,
  type PersonalDataErasureInput,
} from '../../workflows/messages.ts';
import type { AppDeps } from '../deps.ts';
import { serviceUnavailable } from '../errors.ts';
import type { PersonalDataErasureSchema } from '../schemas.ts';
import { retryScheduleOf } from './outbound-webhooks.ts';
import { isTemporalUnreachable } from './start-workflow.ts';

type ErasureJson = Static<typeof PersonalDataErasureSchema>;

/** An erasure is one short transaction; past this the workflow goes on and a repeat finds its record. */
const ERASURE_WAIT_MS = 15_000;

export async function erasePersonalData(
  deps: AppDeps,
  request: { tenantId: string; apiKeyId: string; verificationId: string },
): Promise<ErasureJson> {
  const { db } = deps.database;
  const existing = await findErasure(db, request.tenantId, request.verificationId);
  if (existing) return toErasureJson(deps, existing);
  const input: PersonalDataErasureInput = {
    verificationId: request.verificationId,
    erasedBy: 'api_key',
    apiKeyId: request.apiKeyId,
    retryScheduleMs: retryScheduleOf(deps),
  };
  let record: PersonalDataErasureRecord;
  try {
    record = await deps.temporal.withDeadline(Date.now() + ERASURE_WAIT_MS, () =>
      deps.temporal.workflow.execute(PERSONAL_DATA_ERASURE_WORKFLOW_TYPE, {
        workflowId: personalDataErasureWorkflowId(request.verificationId),
        taskQueue: deps.env.TEMPORAL_TASK_QUEUE,
        args: [input],
        // A concurrent DELETE joins the running erasure; a finished one left its record (read above).
        workflowIdConflictPolicy: 'USE_EXISTING',
      }),
    );
  } catch (err) {
    if (err instanceof WorkflowFailedError) throw err;
    throw Object.assign(
      serviceUnavailable({
        code: isTemporalUnreachable(err) ? 'temporal_unavailable' : 'erasure_pending',
        detail: isTemporalUnreachable(err)
          ? 'The workflow service is unavailable; nothing was erased yet.'
          : 'The erasure did not finish in time; it goes on.',
        action: 'Repeat the request; it is idempotent and answers the erasure record once it exists.',
      }),
      { cause: err },
    );
  }
  return toErasureJson(deps, record);
}

async function toErasureJson(deps: AppDeps, row: PersonalDataErasure | PersonalDataErasureRecord): Promise<ErasureJson> {
  return {
    verificationId: row.verificationId,
    erasedAt: typeof row.erasedAt === 'string' ? row.erasedAt : row.erasedAt.toISOString(),
    erasedBy: row.erasedBy,
    apiKeyPrefix: await keyPrefixOf(deps, row.apiKeyId),
  };
}

async function keyPrefixOf(deps: AppDeps, apiKeyId: string | null): Promise<string | null> {
  if (apiKeyId === null) return null;
  const [key] = await deps.database.db.select({ prefix: apiKeys.keyPrefix }).from(apiKeys).where(eq(apiKeys.id, apiKeyId));
  return key?.prefix ?? null;
}
