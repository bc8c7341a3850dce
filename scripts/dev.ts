// `npm run dev`: the whole thing on one machine — Temporal dev server (with Web UI), the embedded
// database (PGlite served over the Postgres wire protocol, unless DATABASE_URL is set),
// migrations, worker, API, provider sandbox — then prints where to click. The database server
// and the worker run as child processes so the API keeps an event loop of its own. Ctrl-C stops
// everything cleanly.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { ensureDevTenant } from '../api/services/tenants.ts';
import { type Env, parseEnv, publicBaseUrl } from '../config/env.ts';
import { createDatabase } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { composeApi } from '../wiring/api-root.ts';
import { createLogger } from '../wiring/logger.ts';
import { startTracingFromEnv, stopTracing } from '../wiring/tracing.ts';
import { startMailCatcher, type MailCatcher } from '../sandbox/mail.ts';
import { startSandbox, type SandboxOptions } from '../sandbox/server.ts';
import { verificationWorkflowId } from '../workflows/messages.ts';
import { startEmbeddedDatabase, startWorkerProcess } from './lib/dev-children.ts';
import { loadDeveloperEnvFile } from './lib/env-file.ts';
import { logRejectedWebhooks } from './lib/rejected-webhooks.ts';
import { startTemporalDevServer } from './lib/temporal-dev-server.ts';

/** The sandbox's credentials unless set in the environment; the sandbox signs with whatever wins. */
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

/** On Ctrl-C each child gets this long to exit by itself before it is killed. */
const STOP_GRACE_MS = 5_000;

class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

function step(message: string): void {
  process.stdout.write(`• ${message}\n`);
}

async function main(): Promise<void> {
  const envFile = loadDeveloperEnvFile();
  const base = parseEnv();
  const sandboxUrl = `http://127.0.0.1:${base.SANDBOX_PORT}`;
  const source: Record<string, string | undefined> = {
    PERSONA_API_URL: sandboxUrl,
    STRIPE_API_URL: sandboxUrl,
    SMILEID_API_URL: sandboxUrl,
    IDMETA_API_URL: sandboxUrl,
    SMTP_URL: `smtp://127.0.0.1:${base.DEV_MAIL_PORT}`,
    OUTBOUND_ALLOW_LOOPBACK: 'true',
    ...SANDBOX_DEFAULTS,
    LOG_LEVEL: 'warn',
    OPERATOR_TOKEN: `vf_op_dev_${randomBytes(12).toString('hex')}`,
    ...process.env,
  };
  const env = parseEnv(source);
  if (env.NODE_ENV === 'production')
    throw new Error(
      'npm run dev is for development; it creates a dev tenant and a sandbox. Use api/server.ts and worker.ts in production.',
    );
  const logger = createLogger(env);
  const startTemporal = !env.TEMPORAL_ADDRESS;
  await assertPortsFree([
    { port: env.PORT, setting: 'PORT' },
    { port: env.SANDBOX_PORT, setting: 'SANDBOX_PORT' },
    ...(env.DATABASE_URL ? [] : [{ port: env.PGLITE_PORT, setting: 'PGLITE_PORT' }]),
    ...(startTemporal
      ? [
          { port: env.DEV_TEMPORAL_PORT, setting: 'DEV_TEMPORAL_PORT' },
          { port: env.DEV_TEMPORAL_UI_PORT, setting: 'DEV_TEMPORAL_UI_PORT' },
        ]
      : []),
  ]);

  // Stopped in reverse order of start; registered as soon as each piece runs.
  const stops: (() => Promise<unknown> | void)[] = [];
  // The worker child traces itself from the same environment.
  startTracingFromEnv(env, 'veriflow-api');
  stops.push(stopTracing);
  let stopping = false;
  const shutdown = async (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    step('Stopping…');
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        logger.warn({ err }, 'error while stopping');
      }
    }
    process.exit(exitCode);
  };
  // SIGHUP: the terminal closed. Its children ignore it and SIGINT (they wait for this shutdown).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(0));

  try {
    let databaseUrl = env.DATABASE_URL;
    if (!databaseUrl) {
      step(`Starting the embedded database (PGlite in ${env.PGLITE_DIR}, served on 127.0.0.1:${env.PGLITE_PORT})…`);
      const embedded = await startEmbeddedDatabase({ ...process.env, PGLITE_DIR: env.PGLITE_DIR, PGLITE_PORT: String(env.PGLITE_PORT) });
      stops.push(() => embedded.stop(STOP_GRACE_MS));
      databaseUrl = embedded.url;
    } else step('Connecting to Postgres (DATABASE_URL)…');

    let temporalAddress = env.TEMPORAL_ADDRESS;
    let webUi: string | null = null;
    if (startTemporal) {
      step(`Starting the Temporal dev server (state in ${env.DEV_TEMPORAL_DB})…`);
      // The UI decrypts payloads for display through the API's codec endpoint (wiring/codec.ts).
      const server = await startTemporalDevServer({
        dbFile: env.DEV_TEMPORAL_DB,
        port: env.DEV_TEMPORAL_PORT,
        uiPort: env.DEV_TEMPORAL_UI_PORT,
        uiCodecEndpoint: `${publicBaseUrl(env)}/codec`,
        stdio: 'ignore',
        // Ctrl-C must not take the server down while the worker drains against it.
        ownProcessGroup: true,
      });
      stops.push(() => server.stop());
      temporalAddress = server.address;
      webUi = server.uiUrl;
    }

    const database = await createDatabase({ url: databaseUrl });
    stops.push(() => database.close());
    await migrateDatabase(database.db);
    await ensureDevTenant(database.db, env.VERIFLOW_DEV_API_KEY);

    const apiUrl = publicBaseUrl(env);
    // Emails the API sends (notify.email) land here instead of anyone's inbox: GET <sandbox>/mail.
    const mailCatcher = base.SMTP_URL ? null : await startDevMailCatcher(env.DEV_MAIL_PORT);
    if (mailCatcher) stops.push(() => mailCatcher.close());
    step('Starting the provider sandbox…');
    const simulated = sandboxProviders(env, sandboxUrl, apiUrl);
    for (const note of simulated.notes) step(note);
    const sandbox = await startSandbox({
      ...simulated.options,
      extraRoutes: mailCatcher?.routes ?? [],
      port: env.SANDBOX_PORT,
      ...(webUi
        ? { verificationLink: (id: string) => `${webUi}/namespaces/${env.TEMPORAL_NAMESPACE}/workflows/${verificationWorkflowId(id)}` }
        : {}),
    });
    stops.push(() => sandbox.close());

    step('Starting the worker and the API…');
    // The worker reads the same configuration from its environment: every default made explicit.
    const childEnv = { ...stringValues(source), ...stringValues(env), DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporalAddress };
    const worker = await startWorkerProcess(childEnv);
    stops.push(async () => {
      const how = await worker.stop(STOP_GRACE_MS);
      step(how === 'exit code 0' ? 'The worker drained and stopped.' : `The worker did not stop cleanly (${how}); its log above says why.`);
    });
    worker.child.once('exit', (code, signal) => {
      if (stopping) return;
      step(`The worker exited (${signal ?? `code ${String(code)}`}); stopping.`);
      void shutdown(1);
    });

    // The API wired as api/server.ts wires it, on the database dev opened (and closes) itself.
    const api = await composeApi(
      { ...env, TEMPORAL_ADDRESS: temporalAddress },
      { database, logger, beforeListen: (app) => logRejectedWebhooks(app, { write: (line) => process.stdout.write(`${line}\n`) }) },
    );
    stops.push(() => api.close());

    printBanner({ env, apiUrl, databaseUrl, webUi, sandboxUrl: sandbox.url, mailCatcher, envFile });
  } catch (error) {
    console.error(describeError(error));
    await shutdown(1);
  }
}

/**
 * What the sandbox simulates, signed with the very secrets the API verifies. A provider whose API
 * URL points elsewhere is not simulated: its verifications go to that URL.
 */
function sandboxProviders(
  env: Env,
  sandboxUrl: string,
  apiUrl: string,
): { options: Pick<SandboxOptions, 'secrets' | 'webhookTargets'>; notes: string[] } {
  const first = (secrets: string | undefined) => secrets?.split(',')[0]?.trim() ?? '';
  const served = { persona: env.PERSONA_API_URL, stripe: env.STRIPE_API_URL, smileid: env.SMILEID_API_URL, idmeta: env.IDMETA_API_URL };
  const settings = { persona: 'PERSONA_API_URL', stripe: 'STRIPE_API_URL', smileid: 'SMILEID_API_URL', idmeta: 'IDMETA_API_URL' };
  const inSandbox = (provider: keyof typeof served) => served[provider].replace(/\/+$/, '') === sandboxUrl;
  const notes = (Object.keys(served) as (keyof typeof served)[])
    .filter((p) => !inSandbox(p))
    .map((p) => `${settings[p]} is ${served[p]}: ${p} is not simulated by the sandbox; its verifications go there.`);
  return {
    notes,
    options: {
      webhookTargets: {
        persona: `${apiUrl}/webhooks/persona`,
        stripe: `${apiUrl}/webhooks/stripe`,
        smileid: `${apiUrl}/webhooks/smileid`,
        idmeta: `${apiUrl}/webhooks/idmeta`,
      },
      secrets: {
        ...(inSandbox('persona')
          ? { persona: { apiKey: env.PERSONA_API_KEY ?? '', webhookSecret: first(env.PERSONA_WEBHOOK_SECRET) } }
          : {}),
        ...(inSandbox('stripe')
          ? { stripe: { secretKey: env.STRIPE_SECRET_KEY ?? '', webhookSecret: first(env.STRIPE_WEBHOOK_SECRET) } }
          : {}),
        ...(inSandbox('smileid') ? { smileid: { partnerId: env.SMILEID_PARTNER_ID ?? '', apiKey: env.SMILEID_API_KEY ?? '' } } : {}),
        ...(inSandbox('idmeta') ? { idmeta: { apiKey: env.IDMETA_API_KEY ?? '', webhookSecret: first(env.IDMETA_WEBHOOK_SECRET) } } : {}),
      },
    },
  };
}

function stringValues(record: object): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record).flatMap(([key, value]) => (value === undefined || value === null ? [] : [[key, String(value)]])),
  );
}

/** Every port dev listens on, checked before anything starts, so a clash is one clear line. */
async function assertPortsFree(ports: { port: number; setting: string }[]): Promise<void> {
  for (const { port, setting } of ports) {
    if (port === 0) continue;
    const probe = createServer();
    probe.listen(port, '127.0.0.1');
    try {
      await once(probe, 'listening');
    } catch {
      throw new PortInUseError(`Port ${port} is already in use (${setting}): stop whatever holds it, or set ${setting} to another port.`);
    }
    probe.close();
    await once(probe, 'close');
  }
}

/** A port already taken (another catcher, MailHog…) is not fatal: emails are then recorded as failed. */
async function startDevMailCatcher(port: number): Promise<MailCatcher | null> {
  try {
    return await startMailCatcher({
      port,
      logger: {
        info: (details) =>
          step(`mail captured: ${JSON.stringify((details as { subject?: string }).subject ?? '')} (see the sandbox's /mail page)`),
        warn: () => undefined,
      },
    });
  } catch (err) {
    step(
      `Mail catcher not started on 127.0.0.1:${port} (${(err as Error).message}); set DEV_MAIL_PORT, or SMTP_URL to use another SMTP server.`,
    );
    return null;
  }
}

interface Banner {
  env: Env;
  apiUrl: string;
  databaseUrl: string;
  webUi: string | null;
  sandboxUrl: string;
  mailCatcher: MailCatcher | null;
  /** The .env read (scripts/lib/env-file.ts), if any. */
  envFile: string | null;
}

function printBanner({ env, apiUrl, databaseUrl, webUi, sandboxUrl, mailCatcher, envFile }: Banner): void {
  const key = env.VERIFLOW_DEV_API_KEY;
  process.stdout.write(`
veriflow is running
  API        ${apiUrl}        (OpenAPI docs: ${apiUrl}/docs)
  Web UI     ${webUi ?? 'your Temporal cluster’s UI'}        (Temporal: workflows, search attributes, history; payloads decrypted via ${apiUrl}/codec)
  Sandbox    ${sandboxUrl}        (simulated providers)
  Mail       ${mailCatcher ? `${sandboxUrl}/mail        (emails sent to applicants, caught by the local SMTP server ${mailCatcher.url})` : `sent through ${env.SMTP_URL ?? 'nowhere (SMTP_URL unset)'}`}
  Database   DATABASE_URL=${databaseUrl}        (psql, npx drizzle-kit studio, npm run tenants use it)
  API key    ${key}
  Operator   ${env.OPERATOR_TOKEN}        (OPERATOR_TOKEN: POST /v1/templates/sync; a new one each start unless set)
  Settings   ${envFile ?? 'environment only (copy .env.example to .env to keep yours)'}${envFile ? '        (variables set in the environment win over it)' : ''}

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
}

/** A clash is expected and explained in full by its message; anything else shows its kind too. */
function describeError(err: unknown): string {
  return err instanceof PortInUseError ? err.message : err instanceof Error ? `\n${err.name}: ${err.message}` : String(err);
}

main().catch((err: unknown) => {
  console.error(describeError(err));
  process.exit(1);
});
