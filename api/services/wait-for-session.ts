import { eq } from 'drizzle-orm';
import { verifications, type Verification } from '../../db/schema/index.js';
import { isTerminalStatus, type VerificationStatus } from '../../domain/verification.js';
import type { AppDeps } from '../deps.js';

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
