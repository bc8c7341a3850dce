// Production API entry: connects to Postgres and an existing Temporal cluster, listens, and
// closes gracefully (in-flight requests and the webhook dispatch pass under way finish first).
import { fileURLToPath } from 'node:url';
import { InvalidConfigError, parseEnv, shutdownDeadlineMs, timersFromEnv } from '../config/env.js';
import { createDatabase } from '../db/client.js';
import { migrateDatabase } from '../db/migrate.js';
import { exitGracefullyOnSignal } from '../runtime/graceful-exit.js';
import { createLogger } from '../runtime/logger.js';
import { providersFromEnv } from '../runtime/providers.js';
import { createMetrics } from '../runtime/metrics.js';
import { connectClient } from '../runtime/temporal.js';
import { startTracingFromEnv, stopTracing } from '../runtime/tracing.js';
import { buildApp } from './app.js';
import { startSweeper } from './services/sweeper.js';
import { createWebhookDispatcher } from './services/webhook-dispatcher.js';

async function main(): Promise<void> {
  const env = parseEnv();
  if (!env.TEMPORAL_ADDRESS)
    throw new Error('TEMPORAL_ADDRESS is not set: the standalone API needs a Temporal server (npm run dev starts one for you).');
  startTracingFromEnv(env, 'veriflow-api');
  const logger = createLogger(env, 'veriflow-api');
  const database = await createDatabase({ url: env.DATABASE_URL });
  await migrateDatabase(database.db);
  const temporal = await connectClient({ ...env, TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS });
  const providers = providersFromEnv(env);
  const metrics = createMetrics();
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
    defaultTemplates: {
      ...(env.PERSONA_TEMPLATE_ID ? { persona: env.PERSONA_TEMPLATE_ID } : {}),
      ...(env.IDMETA_TEMPLATE_ID ? { idmeta: env.IDMETA_TEMPLATE_ID } : {}),
    },
  });
  const stopSweeper = startSweeper({ db: database.db, temporal, logger, metrics, webhooks, env });
  await app.listen({ host: env.HOST, port: env.PORT });
  exitGracefullyOnSignal({ deadlineMs: shutdownDeadlineMs(env), logger }, async () => {
    // app.close stops accepting and waits for in-flight requests and the dispatch pass under way.
    await stopSweeper();
    await app.close();
    await temporal.connection.close();
    await database.close();
    await stopTracing();
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    // A configuration error is for the operator: its one line says what to set, a stack adds nothing.
    console.error(err instanceof InvalidConfigError ? err.message : err);
    process.exit(1);
  });
}
