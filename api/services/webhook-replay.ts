// Replay ("recover" in Svix's words): re-send a tenant's deliveries of a time window, each under
// its original id (the `webhook-id` receivers dedupe on) and body. Every row is re-queued as a new
// generation and its run started; the runs wait their turn like any delivery, so the events of
// one verification go out again in `seq` order.
import type { Static } from '@sinclair/typebox';
import { and, count, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import { webhookDeliveries, type WebhookDelivery, type WebhookDeliveryStatus } from '../../db/schema/index.ts';
import type { AppDeps } from '../deps.ts';
import { badRequest, unprocessable } from '../errors.ts';
import type { WebhookReplayBody } from '../schemas.ts';
import { startDeliveryRun } from './outbound-sweeper.ts';
import { retryScheduleOf } from './outbound-webhooks.ts';

/** The most deliveries one request re-queues (and Temporal starts it makes); a larger window is refused, not cut. */
export const REPLAY_MAX_DELIVERIES = 1000;
/** Runs started at once, so a large replay does not flood Temporal. */
const START_CONCURRENCY = 20;

export interface ReplayResult {
  replayed: number;
  /** Runs started now; the rest (Temporal unreachable) are started by the outbound sweeper after OUTBOUND_SWEEP_AFTER. */
  started: number;
}

export async function replayDeliveries(deps: AppDeps, tenantId: string, body: Static<typeof WebhookReplayBody>): Promise<ReplayResult> {
  const since = new Date(body.since);
  const until = new Date(body.until);
  if (!(since < until)) {
    throw badRequest({
      code: 'invalid_replay_window',
      detail: `since (${body.since}) must be before until (${body.until})`,
      action: 'Send a window whose start is before its end.',
    });
  }
  // Pending deliveries are already on their way: replaying them would only restart their schedule.
  const statuses: WebhookDeliveryStatus[] = body.status ? [body.status] : ['succeeded', 'failed', 'dead'];
  const inWindow = and(
    eq(webhookDeliveries.tenantId, tenantId),
    gte(webhookDeliveries.createdAt, since),
    lt(webhookDeliveries.createdAt, until),
    inArray(webhookDeliveries.status, statuses),
  );
  const requeued = await deps.database.db.transaction(async (tx) => {
    const [matching] = await tx.select({ n: count() }).from(webhookDeliveries).where(inWindow);
    if (matching!.n > REPLAY_MAX_DELIVERIES) {
      throw unprocessable({
        code: 'replay_too_large',
        detail: `${matching!.n} deliveries match; one replay re-sends at most ${REPLAY_MAX_DELIVERIES}`,
        action: 'Replay the window in parts: shorter since/until ranges, or a status filter.',
      });
    }
    return tx
      .update(webhookDeliveries)
      .set({ status: 'pending', generation: sql`${webhookDeliveries.generation} + 1`, nextAttemptAt: new Date(), nextSweepAt: null })
      .where(inWindow)
      .returning();
  });
  const started = await startRuns(deps, requeued);
  deps.logger.info({ tenantId, replayed: requeued.length, started }, 'webhook deliveries replayed');
  return { replayed: requeued.length, started };
}

async function startRuns(deps: AppDeps, rows: WebhookDelivery[]): Promise<number> {
  const ordered = [...rows].sort((a, b) => a.verificationId.localeCompare(b.verificationId) || a.seq - b.seq);
  const runDeps = { temporal: deps.temporal, taskQueue: deps.env.TEMPORAL_TASK_QUEUE, retryScheduleMs: retryScheduleOf(deps) };
  let started = 0;
  for (let i = 0; i < ordered.length; i += START_CONCURRENCY) {
    const outcomes = await Promise.all(ordered.slice(i, i + START_CONCURRENCY).map((row) => startDeliveryRun(runDeps, row)));
    started += outcomes.filter((o) => o === 'started' || o === 'running').length;
    if (outcomes.includes('unavailable')) break;
  }
  return started;
}
