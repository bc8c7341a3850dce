// The composition root of an API process: what api/server.ts runs in production, and what npm run
// dev, the test stack and the bench start. The HTTP app, its database, Temporal client, providers,
// metrics and the webhook sweeper are wired here, once; callers override only what really differs
// (an open database or client they own, a logger, wrapped providers).
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from '../api/app.ts';
import { startSweeper } from '../api/services/sweeper.ts';
import { createWebhookDispatcher } from '../api/services/webhook-dispatcher.ts';
import { timersFromEnv, type Env } from '../config/env.ts';
import type { DatabaseHandle } from '../db/client.ts';
import type { ProviderRegistry } from '../providers/index.ts';
import { createLogger } from './logger.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { OwnedResources } from './owned-resources.ts';
import { providersFromEnv } from './providers.ts';
import { connectClient } from './temporal.ts';

/** What differs from a production API; everything omitted is built from the configuration. */
export interface ApiOverrides {
  /** Default: the JSON logger on stdout (LOG_LEVEL), named veriflow-api. */
  logger?: Logger;
  /** An open database, left open at close; default: DATABASE_URL, migrated, closed with the API. */
  database?: DatabaseHandle;
  /** A connected client, left open at close; default: connected to TEMPORAL_ADDRESS, closed with the API. */
  temporal?: Client;
  /** Default: the providers the configuration holds credentials for. */
  providers?: ProviderRegistry;
  /** Re-deliver stored webhooks every SWEEPER_INTERVAL (default true). */
  sweeper?: boolean;
  /** Listen on HOST:PORT (default true); false: the app is ready for inject() only. */
  listen?: boolean;
  /** Sees the app before it listens (npm run dev prints rejected webhooks). */
  beforeListen?: (app: FastifyInstance) => void;
}

export interface ApiRoot {
  app: FastifyInstance;
  database: DatabaseHandle;
  temporal: Client;
  providers: ProviderRegistry;
  logger: Logger;
  metrics: Metrics;
  /** Stops the sweeper, closes the app (in-flight requests and background deliveries finish first), then what the root opened. */
  close(): Promise<void>;
}

/** Default template per provider when a request names none (PERSONA_TEMPLATE_ID, IDMETA_TEMPLATE_ID). */
function defaultTemplates(env: Env) {
  return {
    ...(env.PERSONA_TEMPLATE_ID ? { persona: env.PERSONA_TEMPLATE_ID } : {}),
    ...(env.IDMETA_TEMPLATE_ID ? { idmeta: env.IDMETA_TEMPLATE_ID } : {}),
  };
}

/** The HTTP API wired from the configuration, its sweeper running, listening on HOST:PORT. */
export async function composeApi(env: Env, overrides: ApiOverrides = {}): Promise<ApiRoot> {
  const logger = overrides.logger ?? createLogger(env, 'veriflow-api');
  const owned = new OwnedResources();
  try {
    const database = await owned.database(env, overrides.database);
    let temporal = overrides.temporal;
    if (!temporal) {
      if (!env.TEMPORAL_ADDRESS) throw new Error('TEMPORAL_ADDRESS is not set: the API needs a Temporal server.');
      const connected = await connectClient({ ...env, TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS });
      owned.add(() => connected.connection.close());
      temporal = connected;
    }
    const providers = overrides.providers ?? providersFromEnv(env);
    const metrics = createMetrics();
    // One dispatcher signals stored webhooks: intake nudges it, the sweeper's tick wakes it.
    const webhooks = createWebhookDispatcher({ db: database.db, temporal, metrics, env, logger });
    const app = await buildApp({
      metrics,
      webhooks,
      env,
      database,
      temporal,
      providers,
      timers: timersFromEnv(env),
      logger,
      defaultTemplates: defaultTemplates(env),
    });
    // app.close stops accepting and waits for in-flight requests and the dispatch pass under way.
    owned.add(() => app.close());
    if (overrides.sweeper ?? true) owned.add(startSweeper({ db: database.db, temporal, logger, metrics, webhooks, env }));
    overrides.beforeListen?.(app);
    if (overrides.listen ?? true) await app.listen({ host: env.HOST, port: env.PORT });
    return { app, database, temporal, providers, logger, metrics, close: () => owned.close() };
  } catch (error) {
    await owned.close();
    throw error;
  }
}
