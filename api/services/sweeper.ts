import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { sweeperFromEnv, type Env } from '../../config/env.ts';
import type { Database } from '../../db/client.ts';
import type { Metrics } from '../../wiring/metrics.ts';
import { sweepPendingDeliveries } from './outbound-sweeper.ts';
import type { WebhookDispatcher } from './webhook-dispatcher.ts';

export interface SweeperDeps {
  db: Database;
  temporal: Client;
  logger: Logger;
  metrics?: Metrics;
  /** The app's dispatcher (api/app.ts): the sweeper is its clock for stored webhooks still undelivered. */
  webhooks: WebhookDispatcher;
  env: Pick<Env, 'SWEEPER_INTERVAL' | 'SWEEPER_MAX_ATTEMPTS' | 'OUTBOUND_SWEEP_AFTER' | 'OUTBOUND_RETRY_SCHEDULE' | 'TEMPORAL_TASK_QUEUE'>;
}

/**
 * Every SWEEPER_INTERVAL: wakes the webhook dispatcher, which re-delivers stored-but-unsignalled
 * provider webhooks (its own pass, its own concurrency bound: the sweeper adds no second
 * signalling loop), and starts the runs of outbound deliveries pending longer than
 * OUTBOUND_SWEEP_AFTER with none. Returns a stop function.
 */
export function startSweeper(deps: SweeperDeps): () => Promise<void> {
  const settings = sweeperFromEnv(deps.env);
  const outbound = {
    db: deps.db,
    temporal: deps.temporal,
    taskQueue: deps.env.TEMPORAL_TASK_QUEUE,
    retryScheduleMs: settings.outboundRetryScheduleMs,
    pendingAfterMs: settings.outboundSweepAfterMs,
  };
  const sweep = async () => {
    deps.webhooks.retryNow();
    const runs = await sweepPendingDeliveries(outbound);
    if (runs.started + runs.failed > 0) deps.logger.warn({ ...runs }, 'outbound webhook deliveries had no run; started them');
  };
  let running: Promise<void> | null = null;
  const tick = () => {
    running ??= sweep()
      .catch((err: unknown) => deps.logger.warn({ err }, 'sweep failed; will retry'))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, settings.intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
