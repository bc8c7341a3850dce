// Prometheus metrics (prom-client). One registry per process: the API serves it at /metrics;
// a standalone worker serves it on METRICS_PORT. Label values are bounded vocabularies
// (provider, outcome, status), never ids. Every known label value starts at zero, so the
// shipped alerts (ops/prometheus/rules) see their series from the first scrape, not only after
// the first failure.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { WEBHOOK_EVENT_TYPES } from '../activities/outbound-webhooks.ts';
import { PROVIDER_NAMES, VERIFICATION_STATUSES } from '../domain/verification.ts';

/** What veriflow_webhooks_received_total counts: the API's answer, then (worker) the workflow's decision. */
export const WEBHOOK_OUTCOMES = {
  answered: ['stored', 'ignored', 'unmatched', 'duplicate', 'invalid', 'malformed', 'unavailable', 'failed'],
  decided: ['applied', 'stale', 'duplicate', 'unconfirmed'],
} as const;

/** What veriflow_provider_reads_total counts: a read made (answered), failed (the provider erred), or not made (over the read budget). */
export const PROVIDER_READ_OUTCOMES = ['made', 'failed', 'over_budget'] as const;

/** What the dispatcher's signal attempts end as (api/services/event-delivery.ts DeliveryOutcome). */
export const REDELIVERY_OUTCOMES = ['delivered', 'late', 'failed', 'undeliverable', 'unavailable'] as const;

export function createMetrics(registry = new Registry()) {
  collectDefaultMetrics({ register: registry, prefix: 'veriflow_' });
  const registers = [registry];
  const metrics = {
    registry,
    webhooksReceived: new Counter({
      name: 'veriflow_webhooks_received_total',
      help: 'Inbound provider webhooks by provider and outcome (stored, duplicate, unmatched, invalid, malformed, unavailable) and, once the workflow decided, applied, stale or unconfirmed.',
      labelNames: ['provider', 'outcome'] as const,
      registers,
    }),
    webhookAckSeconds: new Histogram({
      name: 'veriflow_webhook_ack_seconds',
      help: 'Time from a webhook request arriving to its answer, by provider.',
      labelNames: ['provider'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    createSeconds: new Histogram({
      name: 'veriflow_create_seconds',
      help: 'POST /v1/verifications latency (without Prefer: wait).',
      buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    transitions: new Counter({
      name: 'veriflow_transitions_total',
      help: 'Verification status changes by provider and new status.',
      labelNames: ['provider', 'status'] as const,
      registers,
    }),
    sweeperBacklog: new Gauge({
      name: 'veriflow_sweeper_backlog',
      help: 'Stored webhook events not yet signalled to their workflow although stored over one SWEEPER_INTERVAL ago, counted in the database when /metrics is scraped.',
      registers,
    }),
    webhookDispatchBatchSize: new Histogram({
      name: 'veriflow_webhook_dispatch_batch_size',
      help: 'Stored webhook events the dispatcher claimed per batch (at most WEBHOOK_DISPATCH_BATCH).',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers,
    }),
    webhookDispatchInFlight: new Gauge({
      name: 'veriflow_webhook_dispatch_in_flight',
      help: 'Signals of stored webhook events in flight (at most WEBHOOK_DISPATCH_CONCURRENCY per API process).',
      registers,
    }),
    webhookDispatchSeconds: new Histogram({
      name: 'veriflow_webhook_dispatch_seconds',
      help: 'From a webhook being stored to its signal being accepted by Temporal (the answer to the provider never waits for it).',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300],
      registers,
    }),
    sweeperRedelivered: new Counter({
      name: 'veriflow_sweeper_redelivered_total',
      help: 'Signal attempts of stored webhook events by the dispatcher (first tries and re-deliveries), by outcome (delivered, late, failed, undeliverable, unavailable: Temporal unreachable).',
      labelNames: ['outcome'] as const,
      registers,
    }),
    providerReads: new Counter({
      name: 'veriflow_provider_reads_total',
      help: 'Reads of a provider’s state (fetch-before-apply, polls, rechecks) by provider and outcome: made, failed (the provider erred; retried), over_budget (not made: PROVIDER_READS_PER_SECOND spent, the body applied unread and read again soon).',
      labelNames: ['provider', 'outcome'] as const,
      registers,
    }),
    ...createOutboundMetrics(registers),
    webhooksUndeliverable: new Counter({
      name: 'veriflow_webhooks_undeliverable_total',
      help: 'Stored webhook events set aside as undeliverable after SWEEPER_MAX_ATTEMPTS failed signals, by provider (list and re-drive: npm run webhooks).',
      labelNames: ['provider'] as const,
      registers,
    }),
  };
  for (const provider of PROVIDER_NAMES) {
    for (const outcome of new Set([...WEBHOOK_OUTCOMES.answered, ...WEBHOOK_OUTCOMES.decided]))
      metrics.webhooksReceived.inc({ provider, outcome }, 0);
    for (const status of VERIFICATION_STATUSES) metrics.transitions.inc({ provider, status }, 0);
    metrics.webhookAckSeconds.zero({ provider });
    metrics.webhooksUndeliverable.inc({ provider }, 0);
    for (const outcome of PROVIDER_READ_OUTCOMES) metrics.providerReads.inc({ provider, outcome }, 0);
  }
  for (const outcome of REDELIVERY_OUTCOMES) metrics.sweeperRedelivered.inc({ outcome }, 0);
  return metrics;
}

/**
 * The API's view of the workers: how many poll its task queue, asked of Temporal at each scrape
 * (as /health/ready does). 0 too when Temporal cannot be asked: either way no verification
 * advances. Registered once per registry.
 */
export function observeTaskQueuePollers(registry: Registry, countPollers: () => Promise<number>): void {
  const name = 'veriflow_task_queue_pollers';
  if (registry.getSingleMetric(name)) return;
  new Gauge({
    name,
    help: 'Workers polling the task queue (Temporal DescribeTaskQueue; pollers seen in the last few minutes), 0 when Temporal cannot be asked.',
    registers: [registry],
    async collect() {
      this.set(await countPollers().catch(() => 0));
    },
  });
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Outbound webhook metrics; labelled series start at 0 for every event type so alert rules always find them. */
function createOutboundMetrics(registers: Registry[]) {
  const attempts = new Counter({
    name: 'veriflow_outbound_attempts_total',
    help: 'Outbound webhook delivery attempts by event type and outcome: succeeded, failed (a retry follows) or dead (the schedule ran out).',
    labelNames: ['event_type', 'outcome'] as const,
    registers,
  });
  const deliverySeconds = new Histogram({
    name: 'veriflow_outbound_delivery_seconds',
    help: 'From an outbound event being written to its successful delivery (retries and waiting for earlier events included).',
    labelNames: ['event_type'] as const,
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 1800, 3600, 4 * 3600, 24 * 3600],
    registers,
  });
  const oldestPendingSeconds = new Gauge({
    name: 'veriflow_outbound_oldest_pending_seconds',
    help: 'Age of the oldest outbound delivery not yet succeeded or dead (0 when none), read from the database at scrape time.',
    registers,
  });
  for (const eventType of WEBHOOK_EVENT_TYPES) {
    for (const outcome of ['succeeded', 'failed', 'dead'] as const) attempts.inc({ event_type: eventType, outcome }, 0);
    deliverySeconds.zero({ event_type: eventType });
  }
  oldestPendingSeconds.set(0);
  return { outboundAttempts: attempts, outboundDeliverySeconds: deliverySeconds, outboundOldestPendingSeconds: oldestPendingSeconds };
}
