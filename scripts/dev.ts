// `npm run dev`: the whole thing in one process — Temporal dev server (with Web UI), embedded
// Postgres (PGlite, unless DATABASE_URL is set), migrations, worker, API, provider sandbox —
// then prints where to click. Ctrl-C stops everything cleanly.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { buildApp } from '../api/app.js';
import { startSweeper } from '../api/services/sweeper.js';
import { ensureDevTenant } from '../api/services/tenants.js';
import { parseEnv, publicBaseUrl, timersFromEnv, workerTuningFromEnv } from '../config/env.js';
import { createDatabase } from '../db/client.js';
import { migrateDatabase } from '../db/migrate.js';
import { getDataConverter } from '../runtime/codec.js';
import { createLogger } from '../runtime/logger.js';
import { mailerFromEnv } from '../runtime/mailer.js';
import { createMetrics } from '../runtime/metrics.js';
import { outboundPolicyFromEnv } from '../runtime/outbound-address.js';
import { providersFromEnv } from '../runtime/providers.js';
import { ensureTemplateSyncSchedule, templateProviders } from '../runtime/schedules.js';
import { connectClient, connectWorker } from '../runtime/temporal.js';
import { startMailCatcher, type MailCatcher } from '../sandbox/mail.js';
import { startSandbox } from '../sandbox/server.js';
import { createVerificationWorker, installTemporalRuntime } from '../worker.js';
import { startTemporalDevServer } from './lib/temporal-dev-server.js';

const DATA_DIR = '.data';
/** The local SMTP catcher (sandbox/mail.ts); used unless SMTP_URL is set explicitly. */
const MAIL_CATCHER_PORT = 1025;

/** The sandbox's credentials; any variable set explicitly in the environment wins. */
const SANDBOX_DEFAULTS = {
  PERSONA_API_KEY: 'sandbox_persona_api_key',
  PERSONA_WEBHOOK_SECRET: 'sandbox_persona_webhook_secret',
  PERSONA_TEMPLATE_ID: 'itmpl_sandbox_kyc',
  STRIPE_SECRET_KEY: 'sk_test_sandbox_stripe_secret_key',
  STRIPE_WEBHOOK_SECRET: 'whsec_sandbox_stripe_webhook_secret',
  SMILEID_PARTNER_ID: '0420',
  SMILEID_API_KEY: 'sandbox_smileid_api_key',
  IDMETA_API_KEY: 'sandbox_idmeta_api_key',
  IDMETA_WEBHOOK_SECRET: 'sandbox_idmeta_webhook_secret',
  IDMETA_TEMPLATE_ID: '306',
};

function step(message: string): void {
  process.stdout.write(`• ${message}\n`);
}

async function main(): Promise<void> {
  const base = parseEnv();
  const sandboxUrl = `http://127.0.0.1:${base.SANDBOX_PORT}`;
  const env = parseEnv({ PERSONA_API_URL: sandboxUrl, STRIPE_API_URL: sandboxUrl, SMILEID_API_URL: sandboxUrl, IDMETA_API_URL: sandboxUrl, SMTP_URL: `smtp://127.0.0.1:${MAIL_CATCHER_PORT}`, OUTBOUND_ALLOW_LOOPBACK: 'true', ...SANDBOX_DEFAULTS, LOG_LEVEL: 'warn', OPERATOR_TOKEN: `vf_op_dev_${randomBytes(12).toString('hex')}`, ...process.env });
  if (env.NODE_ENV === 'production') throw new Error('npm run dev is for development; it creates a dev tenant and a sandbox. Use api/server.ts and worker.ts in production.');
  const logger = createLogger(env);
  await mkdir(DATA_DIR, { recursive: true });
  const stops: (() => Promise<unknown> | void)[] = [];

  let temporalAddress = env.TEMPORAL_ADDRESS;
  let webUi = 'your Temporal cluster’s UI';
  if (!temporalAddress) {
    step('Starting the Temporal dev server (state in .data/temporal.sqlite)…');
    // The UI decrypts payloads for display through the API's codec endpoint (runtime/codec.ts).
    const server = await startTemporalDevServer({ dbFile: `${DATA_DIR}/temporal.sqlite`, port: 7233, uiPort: 8233, uiCodecEndpoint: `${publicBaseUrl(env)}/codec`, stdio: 'ignore' });
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
  // Emails the API sends (notify.email) land here instead of anyone's inbox: GET <sandbox>/mail.
  const mailCatcher = process.env.SMTP_URL ? null : await startDevMailCatcher();
  if (mailCatcher) stops.push(() => mailCatcher.close());
  step('Starting the provider sandbox…');
  const sandbox = await startSandbox({
    extraRoutes: mailCatcher?.routes ?? [],
    port: env.SANDBOX_PORT,
    webhookTargets: { persona: `${apiUrl}/webhooks/persona`, stripe: `${apiUrl}/webhooks/stripe`, smileid: `${apiUrl}/webhooks/smileid`, idmeta: `${apiUrl}/webhooks/idmeta` },
    secrets: {
      persona: { apiKey: SANDBOX_DEFAULTS.PERSONA_API_KEY, webhookSecret: SANDBOX_DEFAULTS.PERSONA_WEBHOOK_SECRET },
      stripe: { secretKey: SANDBOX_DEFAULTS.STRIPE_SECRET_KEY, webhookSecret: SANDBOX_DEFAULTS.STRIPE_WEBHOOK_SECRET },
      smileid: { partnerId: SANDBOX_DEFAULTS.SMILEID_PARTNER_ID, apiKey: SANDBOX_DEFAULTS.SMILEID_API_KEY },
      idmeta: { apiKey: SANDBOX_DEFAULTS.IDMETA_API_KEY, webhookSecret: SANDBOX_DEFAULTS.IDMETA_WEBHOOK_SECRET },
    },
  });
  stops.push(() => sandbox.close());

  step('Starting the worker and the API…');
  installTemporalRuntime(logger, env.TEMPORAL_METRICS_BIND);
  const metrics = createMetrics();
  const temporalEnv = { ...env, TEMPORAL_ADDRESS: temporalAddress };
  const providers = providersFromEnv(env);
  const workerConnection = await connectWorker(temporalEnv);
  const worker = await createVerificationWorker({
    connection: workerConnection,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    db: database.db,
    providers,
    logger,
    metrics,
    mailer: mailerFromEnv(env),
    outbound: outboundPolicyFromEnv(env),
    dataConverter: getDataConverter(env),
    tuning: workerTuningFromEnv(env),
  });
  const workerRun = worker.run();
  stops.unshift(async () => {
    // The SDK also stops workers on SIGINT by itself; shut down only what still runs.
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await workerRun;
    await workerConnection.close();
  });

  const temporal = await connectClient(temporalEnv);
  const app = await buildApp({ metrics, env, database, temporal, providers, timers: timersFromEnv(env), logger, defaultTemplates: { persona: env.PERSONA_TEMPLATE_ID!, ...(env.IDMETA_TEMPLATE_ID ? { idmeta: env.IDMETA_TEMPLATE_ID } : {}) } });
  await app.listen({ host: env.HOST, port: env.PORT });
  const stopSweeper = startSweeper({ db: database.db, temporal, logger, metrics, env });
  stops.unshift(stopSweeper, () => app.close(), () => temporal.connection.close());
  // Template providers' catalogues: synced now (first run) and every 24 h by a Temporal schedule.
  await ensureTemplateSyncSchedule(temporal, env.TEMPORAL_TASK_QUEUE, { providers: templateProviders(providers) }).catch((err: unknown) => logger.warn({ err }, 'template sync schedule could not be ensured'));

  const key = env.VERIFLOW_DEV_API_KEY;
  process.stdout.write(`
veriflow is running
  API        ${apiUrl}        (OpenAPI docs: ${apiUrl}/docs)
  Web UI     ${webUi}        (Temporal: workflows, search attributes, history; payloads decrypted via ${apiUrl}/codec)
  Sandbox    ${sandbox.url}        (simulated providers)
  Mail       ${mailCatcher ? `${sandbox.url}/mail        (emails sent to applicants, caught by the local SMTP server ${mailCatcher.url})` : `sent through ${env.SMTP_URL ?? 'nowhere (SMTP_URL unset)'}`}
  API key    ${key}
  Operator   ${env.OPERATOR_TOKEN}        (OPERATOR_TOKEN: POST /v1/templates/sync; a new one each start unless set)

Create a verification and get its hosted link:
  curl -s -X POST ${apiUrl}/v1/verifications \\
    -H 'Authorization: Bearer ${key}' -H 'Content-Type: application/json' -H 'Prefer: wait=10' \\
    -d '{"provider":"persona","reference":"user-123"}'

Or have the hosted link emailed to the applicant (read it at the Mail page above):
  curl -s -X POST ${apiUrl}/v1/verifications \\
    -H 'Authorization: Bearer ${key}' -H 'Content-Type: application/json' \\
    -d '{"provider":"persona","applicant":{"email":"ada@example.com"},"notify":{"email":true}}'

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

/** A port already taken (another catcher, MailHog…) is not fatal: emails are then recorded as failed. */
async function startDevMailCatcher(): Promise<MailCatcher | null> {
  try {
    return await startMailCatcher({
      port: MAIL_CATCHER_PORT,
      logger: { info: (details) => step(`mail captured: ${JSON.stringify((details as { subject?: string }).subject ?? '')} (see the sandbox's /mail page)`), warn: () => undefined },
    });
  } catch (err) {
    step(`Mail catcher not started on 127.0.0.1:${MAIL_CATCHER_PORT} (${(err as Error).message}); set SMTP_URL to use another SMTP server.`);
    return null;
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? `\n${err.name}: ${err.message}` : err);
  process.exit(1);
});
