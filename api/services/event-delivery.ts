// Signalling stored webhook events to their workflows, from the intake path and the sweeper.
// A signal that fails leaves the row `received`; the sweeper tries again. The workflow dedupes by
// provider event id, so delivering twice is harmless.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { and, asc, eq, isNotNull, isNull, lt, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { verifications, webhookEvents } from '../../db/schema/index.js';
import { isTerminalStatus, type ProviderName, type VerificationStatus } from '../../domain/verification.js';
import type { ProviderAdapter } from '../../providers/types.js';
import type { Metrics } from '../../runtime/metrics.js';
import { providerEventSignal, verificationWorkflowId } from '../../workflows/messages.js';
import { toProviderEvent, type PendingDelivery } from './webhook-intake.js';
import { TEMPORAL_CALL_DEADLINE_MS } from './start-workflow.js';

export type DeliveryOutcome = 'delivered' | 'late' | 'failed';

export async function deliverEvent(db: Database, temporal: Client, delivery: PendingDelivery): Promise<DeliveryOutcome> {
  const handle = temporal.workflow.getHandle(verificationWorkflowId(delivery.verificationId));
  try {
    await temporal.withDeadline(Date.now() + TEMPORAL_CALL_DEADLINE_MS, () => handle.signal(providerEventSignal, delivery.event));
  } catch (err) {
    // Not found: closed after its decision window (late), or — only if the verification is
    // still undecided — never started; then the sweeper keeps trying until it runs.
    const late = err instanceof WorkflowNotFoundError && (await isDecided(db, delivery.verificationId));
    await db
      .update(webhookEvents)
      .set(late ? { outcome: 'late', deliveryAttempts: sql`${webhookEvents.deliveryAttempts} + 1` } : { deliveryAttempts: sql`${webhookEvents.deliveryAttempts} + 1`, errorMessage: (err as Error).message.slice(0, 500) })
      .where(eq(webhookEvents.id, delivery.webhookEventId));
    return late ? 'late' : 'failed';
  }
  // The workflow may already have recorded its verdict (applied, stale): never overwrite that.
  await db
    .update(webhookEvents)
    .set({
      deliveredAt: sql`coalesce(${webhookEvents.deliveredAt}, now())`,
      outcome: sql`case when ${webhookEvents.outcome} = 'received' then 'delivered' else ${webhookEvents.outcome} end`,
      deliveryAttempts: sql`${webhookEvents.deliveryAttempts} + 1`,
      errorMessage: null,
    })
    .where(eq(webhookEvents.id, delivery.webhookEventId));
  return 'delivered';
}

async function isDecided(db: Database, verificationId: string): Promise<boolean> {
  const [row] = await db.select({ status: verifications.status }).from(verifications).where(eq(verifications.id, verificationId));
  return row !== undefined && isTerminalStatus(row.status as VerificationStatus);
}

/** After this many failures in a row the sweep stops: Temporal is down, not one row broken. */
const CONSECUTIVE_FAILURES_TO_STOP = 3;

export interface SweepDeps {
  db: Database;
  metrics?: Metrics;
  temporal: Client;
  providers: { get(name: ProviderName): ProviderAdapter };
}

/** Re-deliver stored events that were never signalled (Temporal was down, or we crashed in between). */
export async function sweepUndelivered(deps: SweepDeps, { olderThanMs = 2000, limit = 200 } = {}): Promise<Record<DeliveryOutcome, number>> {
  const undelivered = and(isNull(webhookEvents.deliveredAt), eq(webhookEvents.outcome, 'received'), isNotNull(webhookEvents.verificationId));
  if (deps.metrics) deps.metrics.sweeperBacklog.set(await deps.db.$count(webhookEvents, undelivered));
  const rows = await deps.db
    .select()
    .from(webhookEvents)
    .where(and(undelivered, lt(webhookEvents.receivedAt, new Date(Date.now() - olderThanMs))))
    .orderBy(asc(webhookEvents.receivedAt))
    .limit(limit);
  const counts: Record<DeliveryOutcome, number> = { delivered: 0, late: 0, failed: 0 };
  let failuresInARow = 0;
  for (const row of rows) {
    const provider = row.provider as ProviderName;
    const event = toProviderEvent(provider, deps.providers.get(provider).parseWebhook(Buffer.from(JSON.stringify(row.payload))), row.id);
    if (!event) continue;
    const outcome = await deliverEvent(deps.db, deps.temporal, { webhookEventId: row.id, verificationId: row.verificationId!, event });
    counts[outcome] += 1;
    deps.metrics?.sweeperRedelivered.inc({ outcome });
    // One failing row must not block the rest; several in a row mean Temporal is still down.
    failuresInARow = outcome === 'failed' ? failuresInARow + 1 : 0;
    if (failuresInARow >= CONSECUTIVE_FAILURES_TO_STOP) break;
  }
  return counts;
}
