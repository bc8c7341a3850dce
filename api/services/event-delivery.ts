// Signalling stored webhook events to their workflows: the dispatcher's passes (nudged by the
// intake, clocked by the sweeper) claim due rows in batches and signal them with bounded
// concurrency, one verification's events one at a time in the order stored. A signal that fails
// leaves the row `received`; a later pass tries again. The workflow dedupes by
// provider event id, so delivering twice is harmless. Failures are judged per row: Temporal being
// unreachable is nobody's row's fault (nothing is counted, the pass stops), while a row Temporal
// refuses (its workflow is gone) counts an attempt and, after SWEEPER_MAX_ATTEMPTS, is set aside
// as `undeliverable` so it never holds up the rows behind it.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { and, asc, eq, inArray, isNotNull, isNull, lt, lte, or, sql } from 'drizzle-orm';
import { sweeperFromEnv, webhookDispatchFromEnv } from '../../config/env.ts';
import type { Database } from '../../db/client.ts';
import { deliveredColumns } from '../../db/webhook-delivered.ts';
import { webhookEventsLockedInIdOrder } from '../../db/webhook-row-locks.ts';
import { verifications, webhookEvents, type WebhookEvent } from '../../db/schema/index.ts';
import { isTerminalStatus, type ProviderEvent, type VerificationStatus } from '../../domain/verification.ts';
import type { Metrics } from '../../wiring/metrics.ts';
import { providerEventSignal, verificationWorkflowId } from '../../workflows/messages.ts';
import type { PendingDelivery } from './webhook-intake.ts';
import { TEMPORAL_CALL_DEADLINE_MS, isTemporalUnreachable } from './start-workflow.ts';

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
  /** WEBHOOK_DISPATCH_CONCURRENCY: signals in flight at once in a pass. */
  concurrency: number;
  /** WEBHOOK_DISPATCH_BATCH: rows claimed per round trip. */
  batch: number;
}

const MAX_ERROR_LENGTH = 500;

/** What the dispatcher needs to deliver stored events, from the environment. */
export function deliveryDeps({
  db,
  temporal,
  metrics,
  env,
}: {
  db: Database;
  temporal: Client;
  metrics?: Metrics | undefined;
  env: Parameters<typeof sweeperFromEnv>[0] & Parameters<typeof webhookDispatchFromEnv>[0];
}): DeliveryDeps {
  const { maxAttempts, intervalMs } = sweeperFromEnv(env);
  const { concurrency, batch } = webhookDispatchFromEnv(env);
  return {
    db,
    temporal,
    maxAttempts,
    retryAfterMs: intervalMs,
    concurrency,
    batch,
    ...(metrics ? { metrics } : {}),
  };
}

type SignalResult = { outcome: Exclude<DeliveryOutcome, 'unavailable'> } | { outcome: 'unavailable'; reason: string };

/**
 * Signals one stored event. A failure the row is to blame for is recorded on it; success and
 * Temporal being unreachable are left to the caller (a batch's rows are updated together).
 */
async function signalStoredEvent(deps: DeliveryDeps, delivery: PendingDelivery): Promise<SignalResult> {
  const { db, temporal } = deps;
  const handle = temporal.workflow.getHandle(verificationWorkflowId(delivery.verificationId));
  try {
    await temporal.withDeadline(Date.now() + TEMPORAL_CALL_DEADLINE_MS, () => handle.signal(providerEventSignal, delivery.event));
  } catch (err) {
    const message = (err as Error).message;
    if (isTemporalUnreachable(err)) return { outcome: 'unavailable', reason: message };
    // Not found: closed after its decision window (late), or — the verification still undecided —
    // not started yet (it may be about to) or terminated: counted, then set aside.
    if (err instanceof WorkflowNotFoundError && (await isDecided(db, delivery.verificationId))) {
      await db
        .update(webhookEvents)
        .set({ outcome: 'late', deliveryAttempts: sql`${webhookEvents.deliveryAttempts} + 1` })
        .where(eq(webhookEvents.id, delivery.webhookEventId));
      return { outcome: 'late' };
    }
    return {
      outcome: await recordFailedAttempt(deps, { webhookEventId: delivery.webhookEventId, provider: delivery.event.provider }, message),
    };
  }
  return { outcome: 'delivered' };
}

/** Temporal could not be reached: the rows stay due (no attempt counted) and say why they wait. */
async function markUnreachable(db: Database, ids: string[], reason: string): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(webhookEvents)
    .set({ errorMessage: `Temporal unreachable: ${reason}`.slice(0, MAX_ERROR_LENGTH), nextSweepAt: null })
    .where(
      and(
        inArray(webhookEvents.id, webhookEventsLockedInIdOrder(db, inArray(webhookEvents.id, ids))),
        eq(webhookEvents.outcome, 'received'),
      ),
    );
}

/** Exported for its lock-order test. */
export async function markDelivered(db: Database, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  // The workflow may already have recorded its verdict (applied, stale): never overwrite that.
  await db
    .update(webhookEvents)
    .set({
      ...deliveredColumns(),
      outcome: sql`case when ${webhookEvents.outcome} = 'received' then 'delivered' else ${webhookEvents.outcome} end`,
    })
    .where(inArray(webhookEvents.id, webhookEventsLockedInIdOrder(db, inArray(webhookEvents.id, ids))));
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
  /** Rows younger than this are left alone (0: every stored row is due, as the dispatcher wants). */
  olderThanMs?: number;
  /** Rows claimed per round trip (default: WEBHOOK_DISPATCH_BATCH). */
  batch?: number;
  /** A claim lapses after this, should its sweeper die mid-pass. */
  leaseMs?: number;
}

/** Events still waiting for their first successful signal. */
const undelivered = and(isNull(webhookEvents.deliveredAt), eq(webhookEvents.outcome, 'received'), isNotNull(webhookEvents.verificationId));

/**
 * The backlog for the metric read at scrape time: stored events still not signalled although
 * stored longer than `olderThanMs` ago (one SWEEPER_INTERVAL: under load fresh rows are always
 * waiting a few milliseconds for their batch; those are not a backlog).
 */
export function countUndelivered(db: Database, olderThanMs: number): Promise<number> {
  return db.$count(webhookEvents, and(undelivered, lt(webhookEvents.receivedAt, sql`now() - ${olderThanMs} * interval '1 millisecond'`)));
}

/**
 * Delivers stored events that were not signalled yet: every due row once per pass, so a
 * deliverable row waits at most one pass however many undeliverable ones precede it. Rows are
 * claimed in batches (FOR UPDATE SKIP LOCKED, then a lease), so the passes of several API
 * replicas never signal the same row at once. Within a batch one verification's events are
 * signalled one after the other in the order stored, and at most `concurrency` signals are in
 * flight. Temporal unreachable ends the pass and hands the unattempted rows back.
 */
export async function sweepUndelivered(
  deps: DeliveryDeps,
  { olderThanMs = 2000, batch = deps.batch, leaseMs = 60_000 }: SweepOptions = {},
): Promise<Record<DeliveryOutcome, number>> {
  // Rows failed in this pass are due after it started: each row is tried at most once per pass.
  const passStartedAt = new Date();
  const counts: Record<DeliveryOutcome, number> = { delivered: 0, late: 0, failed: 0, undeliverable: 0, unavailable: 0 };
  for (;;) {
    const rows = await claimDueRows(deps.db, { passStartedAt, olderThanMs, batch, leaseMs });
    if (rows.length === 0) return counts;
    deps.metrics?.webhookDispatchBatchSize.observe(rows.length);
    if (await deliverBatch(deps, rows, counts)) return counts;
    // A short batch was every row due: claiming again would find nothing (rows stored since then
    // nudge the dispatcher into another pass; the sweeper's tick finds the rest).
    if (rows.length < batch) return counts;
  }
}

/** Signals a claimed batch; true when Temporal was unreachable (the rows not attempted are handed back). */
async function deliverBatch(deps: DeliveryDeps, rows: ClaimedRow[], counts: Record<DeliveryOutcome, number>): Promise<boolean> {
  // One lane per verification, in the order of its first stored event.
  const byVerification = new Map<string, ClaimedRow[]>();
  for (const row of rows) {
    const key = row.verificationId ?? row.id;
    const lane = byVerification.get(key);
    if (lane) lane.push(row);
    else byVerification.set(key, [row]);
  }
  const queue = [...byVerification.values()];
  const attempted = new Set<string>();
  const delivered: string[] = [];
  let unreachable: string | null = null;
  const runLanes = async () => {
    for (let lane = queue.shift(); lane && !unreachable; lane = queue.shift()) {
      for (const row of lane) {
        if (unreachable) return;
        attempted.add(row.id);
        deps.metrics?.webhookDispatchInFlight.inc();
        let result: SignalResult;
        try {
          result = await deliverStoredRow(deps, row);
        } finally {
          deps.metrics?.webhookDispatchInFlight.dec();
        }
        const { outcome } = result;
        counts[outcome] += 1;
        deps.metrics?.sweeperRedelivered.inc({ outcome });
        if (outcome === 'delivered') {
          delivered.push(row.id);
          deps.metrics?.webhookDispatchSeconds.observe((Date.now() - row.receivedAt.getTime()) / 1000);
        }
        if (result.outcome === 'unavailable') {
          unreachable ??= result.reason;
          attempted.delete(row.id);
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(deps.concurrency, queue.length) }, runLanes));
  } finally {
    await markDelivered(deps.db, delivered);
  }
  if (unreachable === null) return false;
  // Temporal is down: hand back every row it did not answer for, for the next pass (or another
  // replica), each saying why it waits.
  await markUnreachable(
    deps.db,
    rows.filter((r) => !attempted.has(r.id)).map((r) => r.id),
    unreachable,
  );
  return true;
}

type ClaimedRow = Pick<WebhookEvent, 'id' | 'provider' | 'verificationId' | 'event' | 'receivedAt'>;

async function claimDueRows(
  db: Database,
  { passStartedAt, olderThanMs, batch, leaseMs }: { passStartedAt: Date; olderThanMs: number; batch: number; leaseMs: number },
): Promise<ClaimedRow[]> {
  const due = db
    .select({ id: webhookEvents.id })
    .from(webhookEvents)
    .where(
      and(
        undelivered,
        // No age filter at 0: received_at is the database's clock, passStartedAt ours.
        olderThanMs > 0 ? lt(webhookEvents.receivedAt, new Date(passStartedAt.getTime() - olderThanMs)) : undefined,
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
    // Not the payload: the raw body can be large and delivery never needs it.
    .returning({
      id: webhookEvents.id,
      provider: webhookEvents.provider,
      verificationId: webhookEvents.verificationId,
      event: webhookEvents.event,
      receivedAt: webhookEvents.receivedAt,
    });
  return claimed.sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime());
}

async function deliverStoredRow(deps: DeliveryDeps, row: ClaimedRow): Promise<SignalResult> {
  if (!row.event) {
    // Stored before intake kept the normalised event (migration 0003): the sweeper has no adapter to parse it.
    const outcome = await recordFailedAttempt(
      { ...deps, maxAttempts: 1 },
      { webhookEventId: row.id, provider: row.provider },
      'stored without a normalised event (before migration 0003); `npm run webhooks -- redrive` parses it once',
    );
    return { outcome };
  }
  return signalStoredEvent(deps, {
    webhookEventId: row.id,
    verificationId: row.verificationId!,
    event: row.event as unknown as ProviderEvent,
  });
}
