// `Prefer: wait`: a request waits for the verification to reach a state, woken by the change
// feed (LISTEN/NOTIFY) rather than querying in a loop. Its reads go through the feed's connection
// budget, so waiting requests never hold the connections webhook intake needs.
import { eq } from 'drizzle-orm';
import { verifications, type Verification } from '../../db/schema/index.ts';
import { isTerminalStatus, type VerificationStatus } from '../../domain/verification.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError, serviceUnavailable } from '../errors.ts';
import type { ChangeFeed } from './change-feed.ts';

/** Re-reads the verification on every change notice until `done` holds, at most `waitMs`; then once more. */
async function waitUntil(
  deps: AppDeps,
  feed: ChangeFeed,
  row: Verification,
  waitMs: number,
  done: (row: Verification) => boolean,
): Promise<Verification> {
  let changed = false;
  let wake = () => {};
  let unsubscribe: () => void;
  try {
    unsubscribe = await feed.subscribe(row.id, () => {
      changed = true;
      wake();
    });
  } catch (err) {
    // The verification exists and carries on: answer without waiting rather than fail the request.
    deps.logger.warn({ err, verificationId: row.id }, 'live updates unavailable; answering without waiting');
    return row;
  }
  const read = async () => (await feed.read(() => deps.database.db.select().from(verifications).where(eq(verifications.id, row.id))))[0];
  const deadline = Date.now() + waitMs;
  try {
    // Read after subscribing: a change between the caller's read and the LISTEN is in this one.
    let current = (await read()) ?? row;
    while (!done(current) && Date.now() < deadline) {
      if (!changed) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, deadline - Date.now());
        });
        clearTimeout(timer);
      }
      changed = false;
      // After a notice, or at the deadline (a notice can be lost while LISTEN reconnects).
      current = (await read()) ?? current;
    }
    return current;
  } finally {
    unsubscribe();
  }
}

/** Waits until the provider session exists (or the verification ended), at most `waitMs`. */
export function waitForSession(deps: AppDeps, feed: ChangeFeed, row: Verification, waitMs: number): Promise<Verification> {
  return waitUntil(deps, feed, row, waitMs, (r) => r.sessionUrl !== null || isTerminalStatus(r.status as VerificationStatus));
}

/** The provider has answered: a final decision, or a referral to a person (needs_review). */
export function hasOutcome(row: Verification): boolean {
  const status = row.status as VerificationStatus;
  return isTerminalStatus(status) || status === 'needs_review';
}

/** Waits until the verification has an outcome (see hasOutcome), at most `waitMs`. */
export function waitForOutcome(deps: AppDeps, feed: ChangeFeed, row: Verification, waitMs: number): Promise<Verification> {
  return waitUntil(deps, feed, row, waitMs, hasOutcome);
}

/** The workflow is retrying a failing provider call (progress says so): a waiting client gets a 503, not a bare 202. */
export function isWaitingOnProvider(row: Verification): boolean {
  return row.progress?.retrying === true && !isTerminalStatus(row.status as VerificationStatus);
}

export function providerUnavailableWhileWaiting(): ApiError {
  return serviceUnavailable({
    code: 'provider_unavailable',
    detail: 'Provider service temporarily unavailable',
    action: 'The verification keeps retrying in the background; poll GET /v1/verifications/:id or retry later.',
  });
}
