// Prometheus metrics (prom-client). One registry per process: the API serves it at /metrics;
// a standalone worker serves it on METRICS_PORT. Label values are bounded vocabularies
// (provider, outcome, status), never ids.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics(registry = new Registry()) {
  collectDefaultMetrics({ register: registry, prefix: 'veriflow_' });
  const registers = [registry];
  return {
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
      help: 'Stored webhook events not yet signalled to their workflow, as of the last sweep.',
      registers,
    }),
    sweeperRedelivered: new Counter({
      name: 'veriflow_sweeper_redelivered_total',
      help: 'Stored webhook events the sweeper tried to signal, by outcome (delivered, late, failed, undeliverable, unavailable: Temporal unreachable).',
      labelNames: ['outcome'] as const,
      registers,
    }),
    webhooksUndeliverable: new Counter({
      name: 'veriflow_webhooks_undeliverable_total',
      help: 'Stored webhook events set aside as undeliverable after SWEEPER_MAX_ATTEMPTS failed signals, by provider (list and re-drive: npm run webhooks).',
      labelNames: ['provider'] as const,
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
