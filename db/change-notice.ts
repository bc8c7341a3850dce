import { sql, type SQL } from 'drizzle-orm';
import type { Database } from './client.ts';

/** Postgres channel carrying the id of a verification that changed (read by the API's live streams). */
export const VERIFICATION_CHANGED_CHANNEL = 'verification_changed';

type Executor = Pick<Database, 'execute'>;

/**
 * The notice as an expression, for a statement that already writes the verification (in its
 * RETURNING list) to send it without a round trip of its own.
 */
export function verificationChangedNotice(verificationId: string): SQL<string> {
  return sql<string>`pg_notify(${VERIFICATION_CHANGED_CHANNEL}, ${verificationId})`;
}

/** Inside a transaction the notice is delivered on commit, so listeners never read a state that is not there yet. */
export async function noticeVerificationChanged(db: Executor, verificationId: string): Promise<void> {
  await db.execute(sql`select ${verificationChangedNotice(verificationId)}`);
}
