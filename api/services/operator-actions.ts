// Cancel and review go through workflow updates: the workflow stays the single writer, and its
// validator decides what is allowed (a decided verification cannot be canceled).
import { WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError, type Client } from '@temporalio/client';
import type { Verification } from '../../db/schema/index.ts';
import { FailureType } from '../../domain/failures.ts';
import { cancelUpdate, reviewUpdate, verificationWorkflowId, type ReviewInput } from '../../workflows/messages.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError, conflict, serviceUnavailable } from '../errors.ts';

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

/** What a 503 can truthfully say: an update that timed out may still be applied; one that never reached Temporal was not. */
function notApplied(what: OperatorAction, row: Verification, err: unknown): ApiError {
  const error =
    err instanceof WorkflowUpdateRPCTimeoutOrCancelledError
      ? serviceUnavailable({
          code: 'operator_action_unconfirmed',
          detail: `The ${what} of verification ${row.id} was sent but not confirmed within ${OPERATOR_UPDATE_DEADLINE_MS / 1000} s (no worker answered); it may still be applied`,
          action: 'GET the verification to see whether it applied before sending it again.',
        })
      : serviceUnavailable({
          code: 'temporal_unavailable',
          detail: `The workflow service is unavailable; the ${what} of verification ${row.id} was not applied`,
          action: 'Send it again later.',
        });
  return Object.assign(error, { cause: err });
}

type OperatorAction = 'cancel' | 'review';

async function runUpdate(
  temporal: Client,
  row: Verification,
  what: OperatorAction,
  call: (handle: ReturnType<Client['workflow']['getHandle']>) => Promise<unknown>,
): Promise<void> {
  const handle = temporal.workflow.getHandle(verificationWorkflowId(row.id));
  try {
    await temporal.withDeadline(Date.now() + OPERATOR_UPDATE_DEADLINE_MS, () => call(handle));
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && failureType(err) === FailureType.alreadyTerminal) {
      throw conflict({
        code: 'verification_terminal',
        detail: `Verification ${row.id} is already decided and cannot be changed this way`,
        action: 'Use POST /review for an operator decision on a decided verification.',
      });
    }
    if ((err as Error).name === 'WorkflowNotFoundError') {
      throw conflict({
        code: 'verification_closed',
        detail: `Verification ${row.id} is closed`,
        action: 'Closed verifications cannot change; start a new verification.',
      });
    }
    throw notApplied(what, row, err);
  }
}

export function cancelVerification(deps: AppDeps, row: Verification, reason: string | undefined): Promise<void> {
  return runUpdate(deps.temporal, row, 'cancel', (handle) => handle.executeUpdate(cancelUpdate, { args: [reason ? { reason } : {}] }));
}

export function reviewVerification(deps: AppDeps, row: Verification, review: ReviewInput): Promise<void> {
  return runUpdate(deps.temporal, row, 'review', (handle) => handle.executeUpdate(reviewUpdate, { args: [review] }));
}
