import { eq } from 'drizzle-orm';
import { verifications, type Verification } from '../../db/schema/index.js';
import { isTerminalStatus, type VerificationStatus } from '../../domain/verification.js';
import type { AppDeps } from '../deps.js';
import { ServiceUnavailableError } from '../errors.js';

const POLL_INTERVAL_MS = 50;

/** Waits until the provider session exists (or the verification ended), at most `waitMs`. */
export async function waitForSession(deps: AppDeps, row: Verification, waitMs: number): Promise<Verification> {
  const deadline = Date.now() + waitMs;
  let current = row;
  while (current.sessionUrl === null && !isTerminalStatus(current.status as VerificationStatus) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_INTERVAL_MS, Math.max(0, deadline - Date.now()))));
    const [fresh] = await deps.database.db.select().from(verifications).where(eq(verifications.id, row.id));
    if (!fresh) break;
    current = fresh;
  }
  return current;
}

/** The provider has answered: a final decision, or a referral to a person (needs_review). */
export function hasOutcome(row: Verification): boolean {
  const status = row.status as VerificationStatus;
  return isTerminalStatus(status) || status === 'needs_review';
}

/** Waits until the verification has an outcome (see hasOutcome), at most `waitMs`. */
export async function waitForOutcome(deps: AppDeps, row: Verification, waitMs: number): Promise<Verification> {
  const deadline = Date.now() + waitMs;
  let current = row;
  while (!hasOutcome(current) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_INTERVAL_MS, Math.max(0, deadline - Date.now()))));
    const [fresh] = await deps.database.db.select().from(verifications).where(eq(verifications.id, row.id));
    if (!fresh) break;
    current = fresh;
  }
  return current;
}

/** The workflow is retrying a failing provider call (progress says so): a waiting client gets a 503, not a bare 202. */
export function isWaitingOnProvider(row: Verification): boolean {
  return row.progress?.retrying === true && !isTerminalStatus(row.status as VerificationStatus);
}

export function providerUnavailableWhileWaiting(): ServiceUnavailableError {
  return new ServiceUnavailableError({
    code: 'provider_unavailable',
    detail: 'Provider service temporarily unavailable',
    action: 'The verification keeps retrying in the background; poll GET /v1/verifications/:id or retry later.',
  });
}
