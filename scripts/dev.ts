// `npm run dev`: the whole thing in one process — Temporal dev server (with Web UI), embedded
// Postgres (PGlite, unless DATABASE_URL is set), migrations, worker, API, provider sandbox —
// then prints where to click. Ctrl-C stops everything cleanly.
import { mkdir } from 'node:fs/promises';
import { buildApp } from '../api/app.js';
import { startSweeper } from '../api/services/sweeper.js';
import { ensureDevTenant } from '../api/services/tenants.js';
import { parseDuration } from '../config/duration.js';
import { parseEnv, publicBaseUrl, timersFromEnv } from '../config/env.js';
import { createDatabase } from '../db/client.js';
import { migrateDatabase } from '../db/migrate.js';
import { createLogger } from '../runtime/logger.js';
import { createMetrics } from '../runtime/metrics.js';
import { providersFromEnv } from '../runtime/providers.js';
import { connectClient, connectWorker } from '../runtime/temporal.js';
import { startSandbox } from '../sandbox/server.js';
import { createVerificationWorker, installTemporalRuntime } from '../worker.js';
import { startTemporalDevServer } from './lib/temporal-dev-server.js';

const DATA_DIR = '.data';

/** The sandbox's credentials; any variable set explicitly in the environment wins. */
const SANDBOX_DEFAULTS = {
  PERSONA_API_KEY: 'sandbox_persona_api_key',
  PERSONA_WEBHOOK_SECRET: 'sandbox_persona_webhook_secret',
  PERSONA_TEMPLATE_ID: 'itmpl_sandbox_kyc',
  STRIPE_SECRET_KEY: 'sk_test_sandbox_stripe_secret_key',
  STRIPE_WEBHOOK_SECRET: 'whsec_sandbox_stripe_webhook_secret',
  SMILEID_PARTNER_ID: '0420',
  SMILEID_API_KEY: 'sandbox_smileid_api_key',
};

function step(message: string): void {
  process.stdout.write(`• ${message}\n`);
}

async function main(): Promise<void> {
  const base = parseEnv();
  const sandboxUrl = `http://127.0.0.1:${base.SANDBOX_PORT}`;
  const env = parseEnv({ PERSONA_API_URL: sandboxUrl, STRIPE_API_URL: sandboxUrl, SMILEID_API_URL: sandboxUrl, ...SANDBOX_DEFAULTS, LOG_LEVEL: 'warn', ...process.env });
  if (env.NODE_ENV === 'production') throw new Error('npm run dev is for development; it creates a dev tenant and a sandbox. Use api/server.ts and worker.ts in production.');
  const logger = createLogger(env);
  await mkdir(DATA_DIR, { recursive: true });
  const stops: (() => Promise<unknown> | void)[] = [];

  let temporalAddress = env.TEMPORAL_ADDRESS;
  let webUi = 'your Temporal cluster’s UI';
  if (!temporalAddress) {
    step('Starting the Temporal dev server (state in .data/temporal.sqlite)…');
    const server = await startTemporalDevServer({ dbFile: `${DATA_DIR}/temporal.sqlite`, port: 7233, uiPort: 8233, stdio: 'ignore' });
    stops.push(() => server.stop());
    temporalAddress = server.address;
    webUi = server.uiUrl ?? webUi;
  }

  step(env.DATABASE_URL ? 'Connecting to Postgres (DATABASE_URL)…' : `Opening the embedded database (PGlite in ${env.PGLITE_DIR})…`);
  const database = await createDatabase({ url: env.DATABASE_URL, dataDir: env.PGLITE_DIR });
  stops.push(() => database.close());
  await migrateDatabase(database.db);
  await ensureDevTenant(database.db, env.VERIFLOW_DEV_API_KEY);

  const apiUrl = publicBaseUrl(env);
  step('Starting the provider sandbox…');
  const sandbox = await startSandbox({
    port: env.SANDBOX_PORT,
    webhookTargets: { persona: `${apiUrl}/webhooks/persona`, stripe: `${apiUrl}/webhooks/stripe`, smileid: `${apiUrl}/webhooks/smileid` },
    secrets: {
      persona: { apiKey: SANDBOX_DEFAULTS.PERSONA_API_KEY, webhookSecret: SANDBOX_DEFAULTS.PERSONA_WEBHOOK_SECRET },
      stripe: { secretKey: SANDBOX_DEFAULTS.STRIPE_SECRET_KEY, webhookSecret: SANDBOX_DEFAULTS.STRIPE_WEBHOOK_SECRET },
      smileid: { partnerId: SANDBOX_DEFAULTS.SMILEID_PARTNER_ID, apiKey: SANDBOX_DEFAULTS.SMILEID_API_KEY },
    },
  });
  stops.push(() => sandbox.close());

  step('Starting the worker and the API…');
  installTemporalRuntime(logger, env.TEMPORAL_METRICS_BIND);
  const metrics = createMetrics();
  const temporalEnv = { ...env, TEMPORAL_ADDRESS: temporalAddress };
  const providers = providersFromEnv(env);
  const workerConnection = await connectWorker(temporalEnv);
  const worker = await createVerificationWorker({ connection: workerConnection, namespace: env.TEMPORAL_NAMESPACE, taskQueue: env.TEMPORAL_TASK_QUEUE, db: database.db, providers, logger, metrics });
  const workerRun = worker.run();
  stops.unshift(async () => {
    // The SDK also stops workers on SIGINT by itself; shut down only what still runs.
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await workerRun;
    await workerConnection.close();
  });

  const temporal = await connectClient(temporalEnv);
  const app = await buildApp({ metrics, env, database, temporal, providers, timers: timersFromEnv(env), logger, defaultTemplates: { persona: env.PERSONA_TEMPLATE_ID! } });
  await app.listen({ host: env.HOST, port: env.PORT });
  const stopSweeper = startSweeper({ db: database.db, temporal, providers, logger, metrics }, parseDuration(env.SWEEPER_INTERVAL));
  stops.unshift(stopSweeper, () => app.close(), () => temporal.connection.close());

  const key = env.VERIFLOW_DEV_API_KEY;
  process.stdout.write(`
veriflow is running
  API        ${apiUrl}        (OpenAPI docs: ${apiUrl}/docs)
  Web UI     ${webUi}        (Temporal: workflows, search attributes, history)
  Sandbox    ${sandbox.url}        (simulated providers)
  API key    ${key}

Create a verification and get its hosted link:
  curl -s -X POST ${apiUrl}/v1/verifications \\
    -H 'Authorization: Bearer ${key}' -H 'Content-Type: application/json' -H 'Prefer: wait=10' \\
    -d '{"provider":"persona","reference":"user-123"}'

Open the "sessionUrl" it prints, click Approve, then read the result:
  curl -s ${apiUrl}/v1/verifications/<id> -H 'Authorization: Bearer ${key}'

In the Web UI, filter with:  VerificationStatus="approved"
Ctrl-C stops everything.
`);

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    step('Stopping…');
    for (const stop of stops) {
      try {
        await stop();
      } catch (err) {
        logger.warn({ err }, 'error while stopping');
      }
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? `\n${err.name}: ${err.message}` : err);
  process.exit(1);
});
