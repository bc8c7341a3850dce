import type { Logger } from 'pino';
import { sweepUndelivered, type SweepDeps } from './event-delivery.js';

/** Periodically re-delivers stored-but-unsignalled webhook events. Returns a stop function. */
export function startSweeper(deps: SweepDeps & { logger: Logger }, intervalMs: number): () => Promise<void> {
  let running: Promise<void> | null = null;
  const tick = () => {
    running ??= sweepUndelivered(deps)
      .then((counts) => {
        if (counts.delivered + counts.late + counts.failed > 0) deps.logger.info({ ...counts }, 'sweeper re-delivered stored webhook events');
      })
      .catch((err: unknown) => deps.logger.warn({ err }, 'sweep failed; will retry'))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
