import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Env } from '../config/env.ts';
import type { DatabaseHandle } from '../db/client.ts';
import type { ProviderBehaviour } from '../domain/provider-capabilities.ts';
import type { VerificationTimers } from '../domain/timers.ts';
import type { ProviderName } from '../domain/verification.ts';
import type { ProviderAdapter } from '../providers/types.ts';
import type { WebhookDispatcher } from './services/webhook-dispatcher.ts';
import type { Metrics } from '../wiring/metrics.ts';

export interface ProviderDirectory {
  has(name: string): boolean;
  get(name: ProviderName): ProviderAdapter;
  /** The configured providers (both of their credentials set). */
  list(): ProviderName[];
}

/** What the HTTP app needs from the outside world; tests build it against real services. */
export interface AppDeps {
  env: Env;
  database: DatabaseHandle;
  temporal: Client;
  providers: ProviderDirectory;
  timers: VerificationTimers;
  logger: Logger;
  /** Prometheus metrics; a fresh registry when omitted (tests). */
  metrics?: Metrics;
  /** Signals stored webhooks (the sweeper clocks the same one); built from env when omitted. Closed with the app. */
  webhooks?: WebhookDispatcher;
  /** Default template per provider when a request names none. */
  defaultTemplates: Partial<Record<ProviderName, string>>;
}

export function behaviourOf(adapter: ProviderAdapter): ProviderBehaviour {
  const { fetchBeforeApply, bodySigned, polling, reverification, sessionExpiry, longLived } = adapter.capabilities;
  return { fetchBeforeApply, bodySigned, polling, reverification, sessionExpiry, longLived, multiStep: adapter.steps !== undefined };
}
