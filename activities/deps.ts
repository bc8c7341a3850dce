import type { Logger } from 'pino';
import type { Database } from '../db/client.ts';
import type { ProviderName } from '../domain/verification.ts';
import type { ProviderAdapter } from '../providers/types.ts';
import type { Mailer } from '../wiring/mailer.ts';
import type { OutboundPolicy } from '../wiring/outbound-address.ts';
import type { Metrics } from '../wiring/metrics.ts';
import type { ProviderReadBudget } from './read-budget.ts';

export interface ProviderLookup {
  get(name: ProviderName): ProviderAdapter;
}

/** Everything activities touch, injected once by the worker (and by tests). */
export interface ActivityDeps {
  db: Database;
  providers: ProviderLookup;
  logger: Logger;
  /** Prometheus metrics of this process; omitted in tests that don't read them. */
  metrics?: Metrics;
  /** Sends applicant emails (SMTP_URL); absent or null: emails are recorded as failed, nothing is sent. */
  mailer?: Mailer | null;
  /** How many reads of each provider's state this process may make (PROVIDER_READS_*); omitted: unlimited. */
  readBudget?: ProviderReadBudget;
  /** What outbound webhooks may reach (outboundPolicyFromEnv). */
  outbound: OutboundPolicy;
}
