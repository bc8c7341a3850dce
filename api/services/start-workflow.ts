import { isGrpcServiceError, WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { ProviderName } from '../../domain/verification.ts';
import {
  VERIFICATION_WORKFLOW_TYPE,
  searchAttributes,
  verificationWorkflowId,
  type VerificationWorkflowInput,
} from '../../workflows/messages.ts';
import { ApiError, serviceUnavailable } from '../errors.ts';

/** A Temporal call that cannot finish in this time is treated as Temporal being unavailable. */
export const TEMPORAL_CALL_DEADLINE_MS = 5000;

/** Connection-level failures: the server is down or too slow, whatever the row. */
export function isTemporalUnreachable(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (isGrpcServiceError(e) && UNREACHABLE_CODES.has(e.code)) return true;
  }
  return false;
}

// grpc status codes: CANCELLED (client deadline), UNKNOWN (connection reset), DEADLINE_EXCEEDED, UNAVAILABLE.
const UNREACHABLE_CODES = new Set([1, 2, 4, 14]);

export function temporalUnavailable(): ApiError {
  return serviceUnavailable({
    code: 'temporal_unavailable',
    detail: 'The workflow service is unavailable; nothing was created.',
    action: 'Retry with the same Idempotency-Key; the request is safe to repeat.',
  });
}

/**
 * Idempotent by workflow id, and never a second run: a running verification is joined, a closed
 * one stays closed (a replayed create must not reopen a decided verification). Resolves once the
 * workflow exists, whether this call or an earlier one started it.
 */
export async function startVerificationWorkflow(
  client: Client,
  taskQueue: string,
  input: VerificationWorkflowInput & { provider: ProviderName },
): Promise<void> {
  const workflowId = verificationWorkflowId(input.verificationId);
  try {
    await client.withDeadline(Date.now() + TEMPORAL_CALL_DEADLINE_MS, () =>
      client.workflow.start(VERIFICATION_WORKFLOW_TYPE, {
        workflowId,
        taskQueue,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: new TypedSearchAttributes([
          { key: searchAttributes.status, value: 'created' },
          { key: searchAttributes.provider, value: input.provider },
          { key: searchAttributes.tenantId, value: input.tenantId },
        ]),
      }),
    );
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return;
    if (await existsInTemporal(client, workflowId)) return;
    throw Object.assign(temporalUnavailable(), { cause: err });
  }
}

/**
 * A start that failed on our side (its deadline passed, the connection dropped) may still have
 * reached Temporal; the caller would then delete the row of a running workflow. Only an answer
 * that names the workflow counts: when Temporal cannot be asked either, it is unreachable and the
 * start most likely never arrived.
 */
async function existsInTemporal(client: Client, workflowId: string): Promise<boolean> {
  try {
    await client.withDeadline(Date.now() + TEMPORAL_CALL_DEADLINE_MS, () => client.workflow.getHandle(workflowId).describe());
    return true;
  } catch {
    return false;
  }
}
