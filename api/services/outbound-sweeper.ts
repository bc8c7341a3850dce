// Outbound deliveries whose run never started: the verification workflow writes the row, then
// starts a child to send it; if that start never happened (the workflow stopped in between, the
// start failed), the row would stay `pending` forever. The sweeper starts the run under the id the
// workflow would have used, so a run that does exist is never doubled (the start is rejected).
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { and, asc, eq, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { webhookDeliveries, type WebhookDelivery } from '../../db/schema/index.ts';
import { WEBHOOK_DELIVERY_WORKFLOW_TYPE, webhookDeliveryWorkflowId, type WebhookDeliveryInput } from '../../workflows/messages.ts';
import { TEMPORAL_CALL_DEADLINE_MS, isTemporalUnreachable } from './start-workflow.ts';

export interface OutboundSweepDeps {
  db: Database;
  temporal: Client;
  taskQueue: string;
  retryScheduleMs: number[];
  /** OUTBOUND_SWEEP_AFTER: a delivery pending longer than this may have no run. */
  pendingAfterMs: number;
}

/** `failed`: Temporal refused this start; the claim's lease lapses and a later pass tries again. */
export type OutboundSweepOutcome = 'started' | 'running' | 'failed' | 'unavailable';

/** Starts the run of every delivery pending longer than pendingAfterMs that has none; rows claimed like the inbound sweeper's. */
export async function sweepPendingDeliveries(
  deps: OutboundSweepDeps,
  { batch = 50, leaseMs = 60_000 } = {},
): Promise<Record<OutboundSweepOutcome, number>> {
  const passStartedAt = new Date();
  const counts: Record<OutboundSweepOutcome, number> = { started: 0, running: 0, failed: 0, unavailable: 0 };
  for (;;) {
    const rows = await claimStalledDeliveries(deps, passStartedAt, batch, leaseMs);
    if (rows.length === 0) return counts;
    for (const [i, row] of rows.entries()) {
      const outcome = await startDeliveryRun(deps, row);
      counts[outcome] += 1;
      if (outcome === 'unavailable') {
        await deps.db
          .update(webhookDeliveries)
          .set({ nextSweepAt: null })
          .where(
            inArray(
              webhookDeliveries.id,
              rows.slice(i).map((r) => r.id),
            ),
          );
        return counts;
      }
    }
  }
}

async function claimStalledDeliveries(
  deps: OutboundSweepDeps,
  passStartedAt: Date,
  batch: number,
  leaseMs: number,
): Promise<WebhookDelivery[]> {
  // Pending since it was written, or since a manual retry re-queued it (nextAttemptAt).
  const pendingSince = sql`coalesce(${webhookDeliveries.nextAttemptAt}, ${webhookDeliveries.createdAt})`;
  const due = deps.db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.status, 'pending'),
        // A raw SQL operand gets no column type to encode a Date with: compare with an ISO string.
        lt(pendingSince, new Date(passStartedAt.getTime() - deps.pendingAfterMs).toISOString()),
        or(isNull(webhookDeliveries.nextSweepAt), lte(webhookDeliveries.nextSweepAt, passStartedAt)),
      ),
    )
    .orderBy(asc(webhookDeliveries.createdAt))
    .limit(batch)
    .for('update', { skipLocked: true });
  // The lease outlives the pass: a run just started has until then to make its first attempt.
  return deps.db
    .update(webhookDeliveries)
    .set({ nextSweepAt: new Date(Date.now() + leaseMs) })
    .where(inArray(webhookDeliveries.id, due))
    .returning();
}

/** Starts the run of this delivery's generation; `running` when it already exists. */
export async function startDeliveryRun(
  deps: Pick<OutboundSweepDeps, 'temporal' | 'taskQueue' | 'retryScheduleMs'>,
  row: Pick<WebhookDelivery, 'id' | 'generation'>,
): Promise<OutboundSweepOutcome> {
  const input: WebhookDeliveryInput = { deliveryId: row.id, generation: row.generation, retryScheduleMs: deps.retryScheduleMs };
  try {
    await deps.temporal.withDeadline(Date.now() + TEMPORAL_CALL_DEADLINE_MS, () =>
      deps.temporal.workflow.start(WEBHOOK_DELIVERY_WORKFLOW_TYPE, {
        workflowId: webhookDeliveryWorkflowId(row.id, row.generation),
        taskQueue: deps.taskQueue,
        args: [input],
      }),
    );
    return 'started';
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return 'running';
    return isTemporalUnreachable(err) ? 'unavailable' : 'failed';
  }
}
