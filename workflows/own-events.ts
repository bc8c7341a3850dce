// Events this workflow decides itself: operator actions (cancel, review) and the results of
// opening the session, and when an operator action is refused. Pure: `now` is passed in (the
// workflow passes `nowIso()`, its deterministic clock).
import { ApplicationFailure } from '@temporalio/workflow';
import { isTerminalStatus, type VerificationStatus } from '../domain/verification.ts';
import { FailureType } from '../domain/failures.ts';
import type { CancelInput, ReviewInput } from './messages.ts';
import type { ReducerEvent } from './state.ts';

export function nowIso(): string {
  return new Date().toISOString();
}

export function cancelEvent(request: CancelInput, providerStatus: string | null, now: string): ReducerEvent {
  return {
    source: 'operator',
    eventId: null,
    occurredAt: now,
    status: 'canceled',
    providerStatus,
    reasons: [request.reason ?? 'canceled_by_client'],
  };
}

export function reviewEvent(request: ReviewInput, providerStatus: string | null, now: string): ReducerEvent {
  return { source: 'operator', eventId: null, occurredAt: now, status: request.decision, providerStatus, reasons: ['operator_review'] };
}

/** What opening the session found (created, or refused by the provider). */
export function apiEvent(status: VerificationStatus, providerStatus: string | null, reasons: string[], now: string): ReducerEvent {
  return { source: 'api', eventId: null, occurredAt: now, status, providerStatus, reasons };
}

/** The refusal of a cancel once the verification is decided. */
export function alreadyTerminal(status: VerificationStatus): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.alreadyTerminal, message: `Verification is already ${status}`, nonRetryable: true });
}

/** A cancel's validator: refused at once when already decided (and again when served, if decided meanwhile). */
export function rejectIfTerminal(status: VerificationStatus): void {
  if (isTerminalStatus(status)) throw alreadyTerminal(status);
}

export function validateReview(request: ReviewInput): void {
  if (request.decision !== 'approved' && request.decision !== 'declined') {
    throw ApplicationFailure.create({
      type: FailureType.invalidDecision,
      message: 'decision must be approved or declined',
      nonRetryable: true,
    });
  }
}
