// What it means for a stored webhook to be delivered, said once: the dispatcher sets it when a
// signal is answered, and recordEvents when the workflow's verdict shows it arrived anyway (its
// answer lost). The first delivery's time stands; the wait and the error it left are cleared.
import { sql } from 'drizzle-orm';
import { webhookEvents } from './schema/index.ts';

export function deliveredColumns() {
  return { deliveredAt: sql`coalesce(${webhookEvents.deliveredAt}, now())`, errorMessage: null, nextSweepAt: null };
}
