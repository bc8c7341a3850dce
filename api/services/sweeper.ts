import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Env } from '../../config/env.js';
import type { Database } from '../../db/client.js';
import type { Metrics } from '../../runtime/metrics.js';
import { deliveryDeps, sweepUndelivered } from './event-delivery.js';

export interface SweeperDeps {
  db: Database;
  temporal: Client;
  logger: Logger;
  metrics?: Metrics;
  env: Pick<Env, 'SWEEPER_INTERVAL' | 'SWEEPER_MAX_ATTEMPTS'>;
}

/** Every SWEEPER_INTERVAL, re-delivers stored-but-unsignalled webhook events. Returns a stop function. */
export function startSweeper(deps: SweeperDeps): () => Promise<void> {
  const delivery = deliveryDeps(deps);
  let running: Promise<void> | null = null;
  const tick = () => {
    running ??= sweepUndelivered(delivery)
      .then((counts) => {
        if (Object.values(counts).some((n) => n > 0)) deps.logger.info({ ...counts }, 'sweeper re-delivered stored webhook events');
        if (counts.undeliverable > 0) deps.logger.warn({ undeliverable: counts.undeliverable }, 'stored webhook events set aside as undeliverable; list them with `npm run webhooks -- undeliverable`');
      })
      .catch((err: unknown) => deps.logger.warn({ err }, 'sweep failed; will retry'))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, delivery.retryAfterMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
