// Cancel and review go through workflow updates: the workflow stays the single writer, and its
// validator decides what is allowed (a decided verification cannot be canceled).
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Verification } from '../../db/schema/index.js';
import { FailureType, cancelUpdate, reviewUpdate, verificationWorkflowId, type ReviewInput } from '../../workflows/messages.js';
import type { AppDeps } from '../deps.js';
import { ConflictError } from '../errors.js';
import { temporalUnavailable } from './start-workflow.js';

/**
 * An update completes only once a worker has run it: allow for a worker that is busy or just
 * restarting before answering 503.
 */
const OPERATOR_UPDATE_DEADLINE_MS = 30_000;

function failureType(err: unknown): string | undefined {
  let cause = (err as { cause?: unknown }).cause;
  while (cause) {
    const type = (cause as { type?: string }).type;
    if (type) return type;
    cause = (cause as { cause?: unknown }).cause;
  }
  return undefined;
}

async function runUpdate(temporal: Client, row: Verification, call: (handle: ReturnType<Client['workflow']['getHandle']>) => Promise<unknown>): Promise<void> {
  const handle = temporal.workflow.getHandle(verificationWorkflowId(row.id));
  try {
    await temporal.withDeadline(Date.now() + OPERATOR_UPDATE_DEADLINE_MS, () => call(handle));
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && failureType(err) === FailureType.alreadyTerminal) {
      throw new ConflictError({ code: 'verification_terminal', detail: `Verification ${row.id} is already decided and cannot be changed this way`, action: 'Use POST /review for an operator decision on a decided verification.' });
    }
    if ((err as Error).name === 'WorkflowNotFoundError') {
      throw new ConflictError({ code: 'verification_closed', detail: `Verification ${row.id} is closed`, action: 'Closed verifications cannot change; start a new verification.' });
    }
    throw Object.assign(temporalUnavailable(), { cause: err });
  }
}

export function cancelVerification(deps: AppDeps, row: Verification, reason: string | undefined): Promise<void> {
  return runUpdate(deps.temporal, row, (handle) => handle.executeUpdate(cancelUpdate, { args: [reason ? { reason } : {}] }));
}

export function reviewVerification(deps: AppDeps, row: Verification, review: ReviewInput): Promise<void> {
  return runUpdate(deps.temporal, row, (handle) => handle.executeUpdate(reviewUpdate, { args: [review] }));
}
