// The webhook dispatcher: signals stored webhook events to their workflows apart from the
// answer to the provider. The intake only stores and nudges it; the sweeper's clock wakes it to
// retry what failed. One pass runs at a time per process, so signalling never has more than
// WEBHOOK_DISPATCH_CONCURRENCY calls in flight, and a burst of webhooks becomes a few batches
// instead of one signal (and one database update) racing every answer.
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Database } from '../../db/client.ts';
import type { Metrics } from '../../wiring/metrics.ts';
import { type DeliveryDeps, type DeliveryOutcome, deliveryDeps, sweepUndelivered } from './event-delivery.ts';

/** The dispatcher of one API process, configured from the environment (SWEEPER_*, WEBHOOK_DISPATCH_*). */
export function createWebhookDispatcher({
  logger,
  ...deps
}: Parameters<typeof deliveryDeps>[0] & {
  db: Database;
  temporal: Client;
  metrics?: Metrics | undefined;
  logger: Logger;
}): WebhookDispatcher {
  return new WebhookDispatcher(deliveryDeps(deps), logger);
}

export class WebhookDispatcher {
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  /** After Temporal was unreachable, nudges wait until then (the sweeper's clock still wakes us). */
  private quietUntil = 0;

  private readonly deps: DeliveryDeps;
  private readonly logger: Logger;

  constructor(deps: DeliveryDeps, logger: Logger) {
    this.deps = deps;
    this.logger = logger;
  }

  /** A webhook was stored: deliver it (and whatever else is due) soon. Never waits. */
  nudge(): void {
    if (Date.now() < this.quietUntil) return;
    this.wake();
  }

  /** The sweeper's tick: a pass now (or right after the one under way), even after Temporal was unreachable. Never waits. */
  retryNow(): void {
    this.quietUntil = 0;
    this.wake();
  }

  /** Lets the pass under way finish; later nudges do nothing. */
  async stop(): Promise<void> {
    this.stopped = true;
    while (this.running) await this.running;
  }

  private wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run().finally(() => {
      this.running = null;
      // A nudge that came after the last claim of the pass, as it ended.
      if (this.again) this.wake();
    });
  }

  private async run(): Promise<void> {
    do {
      this.again = false;
      let counts: Record<DeliveryOutcome, number>;
      try {
        counts = await sweepUndelivered(this.deps, { olderThanMs: 0 });
      } catch (err) {
        // The database, most likely: the next store that succeeds nudges again (and the sweeper ticks).
        this.logger.warn({ err }, 'webhook dispatch pass failed; stored events are retried on the next one');
        return;
      }
      this.report(counts);
      if (counts.unavailable > 0) {
        // Nudges meanwhile are dropped: every row due waits for the next tick (or a nudge after the quiet).
        this.quietUntil = Date.now() + this.deps.retryAfterMs;
        this.again = false;
        return;
      }
    } while (this.again && !this.stopped);
  }

  private report(counts: Record<DeliveryOutcome, number>): void {
    const { delivered, late, failed, undeliverable, unavailable } = counts;
    if (unavailable > 0)
      this.logger.warn(
        { delivered, retryInMs: this.deps.retryAfterMs },
        'Temporal unreachable: stored webhook events wait for the next dispatch pass',
      );
    if (failed + late > 0) this.logger.info({ ...counts }, 'webhook dispatch pass: some events not delivered (retried later or late)');
    if (undeliverable > 0)
      this.logger.warn(
        { undeliverable },
        'stored webhook events set aside as undeliverable; list them with `npm run webhooks -- undeliverable`',
      );
    if (unavailable + failed + late + undeliverable === 0 && delivered > 0) this.logger.debug({ delivered }, 'webhook events dispatched');
  }
}
