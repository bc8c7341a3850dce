// The age of the oldest outbound delivery still to send, for /metrics: read from the database at
// scrape time, so every API replica reports the same truth and no process has to track it.
import { inArray, min } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { webhookDeliveries } from '../../db/schema/index.ts';
import type { Metrics } from '../../wiring/metrics.ts';

export async function measureOutboundQueueAge(db: Database, metrics: Metrics): Promise<void> {
  const [oldest] = await db
    .select({ createdAt: min(webhookDeliveries.createdAt) })
    .from(webhookDeliveries)
    .where(inArray(webhookDeliveries.status, ['pending', 'failed']));
  const since = oldest?.createdAt ? new Date(oldest.createdAt).getTime() : null;
  metrics.outboundOldestPendingSeconds.set(since === null ? 0 : Math.max(0, (Date.now() - since) / 1000));
}
