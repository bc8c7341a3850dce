import { isGrpcServiceError, type Client } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { ProviderName } from '../../domain/verification.js';
import {
  VERIFICATION_WORKFLOW_TYPE,
  searchAttributes,
  verificationWorkflowId,
  type VerificationWorkflowInput,
} from '../../workflows/messages.js';
import { ServiceUnavailableError } from '../errors.js';

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

export function temporalUnavailable(): ServiceUnavailableError {
  return new ServiceUnavailableError({
    code: 'temporal_unavailable',
    detail: 'The workflow service is unavailable; nothing was created.',
    action: 'Retry with the same Idempotency-Key; the request is safe to repeat.',
  });
}

/** Idempotent by workflow id: starting an already-running verification is a no-op. */
export async function startVerificationWorkflow(client: Client, taskQueue: string, input: VerificationWorkflowInput & { provider: ProviderName }): Promise<void> {
  try {
    await client.withDeadline(Date.now() + TEMPORAL_CALL_DEADLINE_MS, () =>
      client.workflow.start(VERIFICATION_WORKFLOW_TYPE, {
        workflowId: verificationWorkflowId(input.verificationId),
        taskQueue,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        typedSearchAttributes: new TypedSearchAttributes([
          { key: searchAttributes.status, value: 'created' },
          { key: searchAttributes.provider, value: input.provider },
          { key: searchAttributes.tenantId, value: input.tenantId },
        ]),
      }),
    );
  } catch (err) {
    if ((err as Error).name === 'WorkflowExecutionAlreadyStartedError') return;
    throw Object.assign(temporalUnavailable(), { cause: err });
  }
}
