import { sql } from 'drizzle-orm';
import type { Database } from './client.js';

/** Postgres channel carrying the id of a verification that changed (read by the API's live streams). */
export const VERIFICATION_CHANGED_CHANNEL = 'verification_changed';

type Executor = Pick<Database, 'execute'>;

/** Inside a transaction the notice is delivered on commit, so listeners never read a state that is not there yet. */
export async function noticeVerificationChanged(db: Executor, verificationId: string): Promise<void> {
  await db.execute(sql`select pg_notify(${VERIFICATION_CHANGED_CHANNEL}, ${verificationId})`);
}
