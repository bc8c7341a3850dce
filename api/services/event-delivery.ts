// Signalling stored webhook events to their workflows, from the intake path and the sweeper.
// A signal that fails leaves the row `received`; the sweeper tries again. The workflow dedupes by
// provider event id, so delivering twice is harmless. Failures are judged per row: Temporal being
// unreachable is nobody's row's fault (nothing is counted, the pass stops), while a row Temporal
// refuses (its workflow is gone) counts an attempt and, after SWEEPER_MAX_ATTEMPTS, is set aside
// as `undeliverable` so it never holds up the rows behind it.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { and, asc, eq, inArray, isNotNull, isNull, lt, lte, or, sql } from 'drizzle-orm';
import { sweeperFromEnv } from '../../config/env.js';
import type { Database } from '../../db/client.js';
import { verifications, webhookEvents, type WebhookEvent } from '../../db/schema/index.js';
import { isTerminalStatus, type ProviderEvent, type VerificationStatus } from '../../domain/verification.js';
import type { Metrics } from '../../runtime/metrics.js';
import { providerEventSignal, verificationWorkflowId } from '../../workflows/messages.js';
import type { PendingDelivery } from './webhook-intake.js';
import { TEMPORAL_CALL_DEADLINE_MS, isTemporalUnreachable } from './start-workflow.js';

/** `unavailable`: Temporal could not be reached; the row is untouched apart from its error message. */
export type DeliveryOutcome = 'delivered' | 'late' | 'failed' | 'undeliverable' | 'unavailable';

export interface DeliveryDeps {
  db: Database;
  temporal: Client;
  metrics?: Metrics;
  /** SWEEPER_MAX_ATTEMPTS: failed attempts after which a row is `undeliverable`. */
  maxAttempts: number;
  /** How long a failed row waits before the next attempt (the sweeper interval). */
  retryAfterMs: number;
}

const MAX_ERROR_LENGTH = 500;

/** What the intake path and the sweeper need to deliver a stored event, from the environment. */
export function deliveryDeps({
  db,
  temporal,
  metrics,
  env,
}: {
  db: Database;
  temporal: Client;
  metrics?: Metrics | undefined;
  env: Parameters<typeof sweeperFromEnv>[0];
}): DeliveryDeps {
  const { maxAttempts, intervalMs } = sweeperFromEnv(env);
  return {
    db,
    temporal,
    maxAttempts,
    retryAfterMs: intervalMs,
    ...(metrics ? { metrics } : {}),
  };
}

export async function deliverEvent(deps: DeliveryDeps, delivery: PendingDelivery): Promise<DeliveryOutcome> {
  const { db, temporal } = deps;
  const handle = temporal.workflow.getHandle(verificationWorkflowId(delivery.verificationId));
  try {
    await temporal.withDeadline(Date.now() + TEMPORAL_CALL_DEADLINE_MS, () => handle.signal(providerEventSignal, delivery.event));
  } catch (err) {
    const message = (err as Error).message;
    if (isTemporalUnreachable(err)) {
      await db
        .update(webhookEvents)
        .set({ errorMessage: `Temporal unreachable: ${message}`.slice(0, MAX_ERROR_LENGTH), nextSweepAt: null })
        .where(and(eq(webhookEvents.id, delivery.webhookEventId), eq(webhookEvents.outcome, 'received')));
      return 'unavailable';
    }
    // Not found: closed after its decision window (late), or — the verification still undecided —
    // not started yet (it may be about to) or terminated: counted, then set aside.
    if (err instanceof WorkflowNotFoundError && (await isDecided(db, delivery.verificationId))) {
      await db
        .update(webhookEvents)
        .set({ outcome: 'late', deliveryAttempts: sql`${webhookEvents.deliveryAttempts} + 1` })
        .where(eq(webhookEvents.id, delivery.webhookEventId));
      return 'late';
    }
    return recordFailedAttempt(deps, { webhookEventId: delivery.webhookEventId, provider: delivery.event.provider }, message);
  }
  // The workflow may already have recorded its verdict (applied, stale): never overwrite that.
  await db
    .update(webhookEvents)
    .set({
      deliveredAt: sql`coalesce(${webhookEvents.deliveredAt}, now())`,
      outcome: sql`case when ${webhookEvents.outcome} = 'received' then 'delivered' else ${webhookEvents.outcome} end`,
      errorMessage: null,
      nextSweepAt: null,
    })
    .where(eq(webhookEvents.id, delivery.webhookEventId));
  return 'delivered';
}

async function recordFailedAttempt(
  deps: DeliveryDeps,
  delivery: Pick<PendingDelivery, 'webhookEventId'> & { provider: string },
  reason: string,
): Promise<'failed' | 'undeliverable'> {
  const attempts = sql`${webhookEvents.deliveryAttempts} + 1`;
  const givingUp = sql`${attempts} >= ${deps.maxAttempts}`;
  const [row] = await deps.db
    .update(webhookEvents)
    .set({
      deliveryAttempts: attempts,
      outcome: sql`case when ${givingUp} then 'undeliverable' else ${webhookEvents.outcome} end`,
      errorMessage: sql`case when ${givingUp} then 'Not delivered after ' || ${attempts} || ' attempts: ' || ${reason} else ${reason} end`,
      nextSweepAt: new Date(Date.now() + deps.retryAfterMs),
    })
    .where(and(eq(webhookEvents.id, delivery.webhookEventId), eq(webhookEvents.outcome, 'received')))
    .returning({ outcome: webhookEvents.outcome });
  if (row?.outcome !== 'undeliverable') return 'failed';
  deps.metrics?.webhooksUndeliverable.inc({ provider: delivery.provider });
  return 'undeliverable';
}

async function isDecided(db: Database, verificationId: string): Promise<boolean> {
  const [row] = await db.select({ status: verifications.status }).from(verifications).where(eq(verifications.id, verificationId));
  return row !== undefined && isTerminalStatus(row.status as VerificationStatus);
}

export interface SweepOptions {
  /** Rows younger than this are left to the intake's own signal. */
  olderThanMs?: number;
  /** Rows claimed per round trip. */
  batch?: number;
  /** A claim lapses after this, should its sweeper die mid-pass. */
  leaseMs?: number;
}

/** Events still waiting for their first successful signal. */
const undelivered = and(isNull(webhookEvents.deliveredAt), eq(webhookEvents.outcome, 'received'), isNotNull(webhookEvents.verificationId));

/**
 * Re-delivers stored events that were never signalled (Temporal was down, or we crashed in
 * between): every due row once per pass, so a deliverable row waits at most one interval however
 * many undeliverable ones precede it. Rows are claimed (FOR UPDATE SKIP LOCKED, then a lease), so
 * sweepers of several API replicas never signal the same row at once.
 */
export async function sweepUndelivered(
  deps: DeliveryDeps,
  { olderThanMs = 2000, batch = 50, leaseMs = 60_000 }: SweepOptions = {},
): Promise<Record<DeliveryOutcome, number>> {
  if (deps.metrics) deps.metrics.sweeperBacklog.set(await deps.db.$count(webhookEvents, undelivered));
  // Rows failed in this pass are due after it started: each row is tried at most once per pass.
  const passStartedAt = new Date();
  const counts: Record<DeliveryOutcome, number> = { delivered: 0, late: 0, failed: 0, undeliverable: 0, unavailable: 0 };
  for (;;) {
    const rows = await claimDueRows(deps.db, { passStartedAt, olderThanMs, batch, leaseMs });
    if (rows.length === 0) return counts;
    for (const [i, row] of rows.entries()) {
      const outcome = await deliverStoredRow(deps, row);
      counts[outcome] += 1;
      deps.metrics?.sweeperRedelivered.inc({ outcome });
      if (outcome === 'unavailable') {
        // Temporal is down: hand the rest back for the next pass (or another replica).
        await deps.db
          .update(webhookEvents)
          .set({ nextSweepAt: null })
          .where(
            inArray(
              webhookEvents.id,
              rows.slice(i + 1).map((r) => r.id),
            ),
          );
        return counts;
      }
    }
  }
}

async function claimDueRows(
  db: Database,
  { passStartedAt, olderThanMs, batch, leaseMs }: { passStartedAt: Date; olderThanMs: number; batch: number; leaseMs: number },
): Promise<WebhookEvent[]> {
  const due = db
    .select({ id: webhookEvents.id })
    .from(webhookEvents)
    .where(
      and(
        undelivered,
        lt(webhookEvents.receivedAt, new Date(passStartedAt.getTime() - olderThanMs)),
        or(isNull(webhookEvents.nextSweepAt), lte(webhookEvents.nextSweepAt, passStartedAt)),
      ),
    )
    .orderBy(asc(webhookEvents.receivedAt))
    .limit(batch)
    .for('update', { skipLocked: true });
  const claimed = await db
    .update(webhookEvents)
    .set({ nextSweepAt: new Date(Date.now() + leaseMs) })
    .where(inArray(webhookEvents.id, due))
    .returning();
  return claimed.sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime());
}

function deliverStoredRow(deps: DeliveryDeps, row: WebhookEvent): Promise<DeliveryOutcome> {
  if (!row.event) {
    // Stored before intake kept the normalised event (migration 0003): the sweeper has no adapter to parse it.
    return recordFailedAttempt(
      { ...deps, maxAttempts: 1 },
      { webhookEventId: row.id, provider: row.provider },
      'stored without a normalised event (before migration 0003); `npm run webhooks -- redrive` parses it once',
    );
  }
  return deliverEvent(deps, { webhookEventId: row.id, verificationId: row.verificationId!, event: row.event as unknown as ProviderEvent });
}
