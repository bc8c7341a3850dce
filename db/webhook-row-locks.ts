// Stored webhooks are updated in sets by writers that run at once: the dispatcher and the sweeper
// mark what they signalled (API), recordEvents writes the workflow's verdicts (worker). Two of them
// locking overlapping rows in different orders deadlock, and Postgres aborts one (the bench saw
// "deadlock detected" on both sides). So every writer of more than one row locks them in id order.
import { asc, type SQL } from 'drizzle-orm';
import type { Database } from './client.ts';
import { webhookEvents } from './schema/index.ts';

/**
 * The rows `where` selects, locked FOR UPDATE in id order. Awaited, it takes the locks (a transaction's
 * later statements then wait for nothing); as `inArray(webhookEvents.id, …)` in an UPDATE, that
 * UPDATE takes its locks in this order.
 */
export function webhookEventsLockedInIdOrder(db: Database, where: SQL | undefined) {
  return db.select({ id: webhookEvents.id }).from(webhookEvents).where(where).orderBy(asc(webhookEvents.id)).for('update');
}
