// The whole veriflow stack for an integration test: a real Temporal dev server, a fresh
// Postgres database, the provider sandbox, the worker (real workflow bundle) and the HTTP API
// listening on loopback so the sandbox can deliver webhooks to it.
import { bundleWorkflowCode, DefaultLogger, NativeConnection, type Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import type { Test } from 'tap';
import { buildApp } from '../../api/app.js';
import { startSweeper } from '../../api/services/sweeper.js';
import { ensureDevTenant } from '../../api/services/tenants.js';
import { parseEnv, timersFromEnv, workerTuningFromEnv, type Env, type WorkerTuning } from '../../config/env.js';
import { createDatabase, type Database, type DatabaseHandle } from '../../db/client.js';
import type { ProviderCapabilities } from '../../domain/provider-capabilities.js';
import type { ProviderName } from '../../domain/verification.js';
import type { ProviderRegistry } from '../../providers/index.js';
import { failureConverterPath, getDataConverter } from '../../runtime/codec.js';
import { mailerFromEnv } from '../../runtime/mailer.js';
import { createMetrics } from '../../runtime/metrics.js';
import { outboundPolicyFromEnv } from '../../runtime/outbound-address.js';
import { providersFromEnv } from '../../runtime/providers.js';
import { WORKFLOW_TRACING_MODULES } from '../../runtime/tracing.js';
import { startSandbox } from '../../sandbox/server.js';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.js';
import { createVerificationWorker, installTemporalRuntime, promoteWorker, workflowsPath } from '../../worker.js';
import { authorizedRequest, type AuthorizedRequest } from './app.js';
import { createTestDatabase } from './database.js';
import { startTestTemporal, type TestTemporal } from './temporal.js';
import { SANDBOX_SECRETS, TEST_API_KEY, testAppEnv } from './test-env.js';

// Re-exported so an integration test needs one import for the stack, its waits and its credentials.
export { eventually } from './eventually.js';
export { IDMETA_SECRETS, PERSONA_SECRETS, SMILEID_SECRETS, STRIPE_SECRETS, TEST_API_KEY, TEST_OPERATOR_TOKEN } from './test-env.js';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Bundling takes seconds: once per test file (process). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  // The same failure converter as the workers' data converter: workflow errors are encrypted too.
  bundle ??= bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    failureConverterPath: failureConverterPath(),
    // As scripts/build.ts bundles for production.
    workflowInterceptorModules: WORKFLOW_TRACING_MODULES,
    logger: new DefaultLogger('ERROR'),
  });
  return bundle;
}

export interface StackOptions {
  /** Extra environment (timer durations, …) on top of the test defaults. */
  env?: Record<string, string>;
  /** Start without a worker (tests that start their own, or none). */
  worker?: boolean;
  /** Use this Temporal server (e.g. one the test restarts) instead of a fresh in-memory one; the caller stops it. */
  temporal?: TestTemporal;
  /** Run the webhook sweeper every SWEEPER_INTERVAL, as api/server.ts and scripts/dev.ts do. */
  startSweeper?: boolean;
  /** Capabilities overridden per provider, for API and worker alike (the workflow gets behaviour as data). */
  capabilities?: Partial<Record<ProviderName, Partial<ProviderCapabilities>>>;
  /** The URL API and worker reach Postgres at, from the fresh database's own (e.g. through a proxy the test cuts). */
  databaseUrl?: (directUrl: string) => string;
  /** Where the sandbox sends Persona webhooks instead of the API (e.g. a closed port: webhooks get lost). */
  sandboxWebhookTarget?: string;
  /** Logger of the API, the worker's activities and the Temporal runtime (workflow `log`); silent by default. The runtime's is set once per process. */
  logger?: Logger;
}

export interface WorkerStartOptions {
  /** This worker's activities use these providers (e.g. wrapped to slow down or count calls). */
  providers?: ProviderRegistry;
  /** This worker's activity logger. */
  logger?: Logger;
  /** Worker identity (ActivityTaskStarted.identity in the history). */
  identity?: string;
  /** Overrides of the tuning the stack's WORKER_* env gives every worker. */
  tuning?: Partial<WorkerTuning>;
  /** This worker's build (Worker Versioning); the hash of the bundle when omitted. It becomes the current build once polling. */
  buildId?: string;
}

export interface Stack {
  env: Env;
  app: FastifyInstance;
  apiUrl: string;
  sandboxUrl: string;
  temporal: TestTemporal;
  database: DatabaseHandle;
  /** Straight to the test database, whatever `databaseUrl` routes the app through. */
  directDb: Database;
  tenantId: string;
  worker: Worker | null;
  /** Starts a worker on the stack's task queue (tuned by the stack's WORKER_* env); resolves once it runs. */
  startWorker(options?: WorkerStartOptions): Promise<Worker>;
  /** The providers API and worker use (capability overrides applied). */
  providers: ProviderRegistry;
  /** Authorized request helper against the in-process app. */
  request: AuthorizedRequest;
}

const quiet = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export async function startStack(t: Test, options: StackOptions = {}): Promise<Stack> {
  const [temporal, testDb, apiPort] = await Promise.all([options.temporal ?? startTestTemporal(t), createTestDatabase(t), pickFreePort()]);
  const sandbox = await startSandbox({
    port: 0,
    webhookTargets: {
      persona: options.sandboxWebhookTarget ?? `http://127.0.0.1:${apiPort}/webhooks/persona`,
      stripe: `http://127.0.0.1:${apiPort}/webhooks/stripe`,
      smileid: `http://127.0.0.1:${apiPort}/webhooks/smileid`,
      idmeta: `http://127.0.0.1:${apiPort}/webhooks/idmeta`,
    },
    secrets: SANDBOX_SECRETS,
    webhookRetryDelaysMs: [0, 200, 1000],
  });
  t.teardown(() => sandbox.close());

  const env = parseEnv({
    NODE_ENV: 'test',
    PORT: String(apiPort),
    DATABASE_URL: options.databaseUrl?.(testDb.url) ?? testDb.url,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: `verifications-${apiPort}`,
    ...testAppEnv(sandbox.url),
    ...options.env,
  });
  const providers = withCapabilities(providersFromEnv(env), options.capabilities ?? {});
  let database = testDb.handle;
  if (env.DATABASE_URL !== testDb.url) {
    const routed = await createDatabase({ url: env.DATABASE_URL });
    t.teardown(() => routed.close());
    database = routed;
  }
  const tenantId = await ensureDevTenant(database.db, TEST_API_KEY);

  const logger = options.logger ?? quiet;
  const workers: Worker[] = [];
  const startWorker = async (workerOptions: WorkerStartOptions = {}) => {
    // Installed on first use only: an installed but unused SDK runtime keeps the process alive.
    installTemporalRuntime(logger);
    const connection = await NativeConnection.connect({ address: temporal.address });
    const worker = await createVerificationWorker({
      connection,
      namespace: 'default',
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      workflowBundle: await workflowBundle(),
      db: database.db,
      providers: workerOptions.providers ?? providers,
      logger: workerOptions.logger ?? logger,
      mailer: mailerFromEnv(env),
      outbound: outboundPolicyFromEnv(env),
      dataConverter: getDataConverter(env),
      tuning: { ...workerTuningFromEnv(env), ...workerOptions.tuning },
      ...(workerOptions.identity ? { identity: workerOptions.identity } : {}),
      ...(workerOptions.buildId ? { buildId: workerOptions.buildId } : {}),
    });
    const running = worker.run().finally(() => connection.close());
    t.teardown(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    });
    await promoteWorker(worker, connection, 'always');
    workers.push(worker);
    return worker;
  };

  const metrics = createMetrics();
  const app = await buildApp({
    metrics,
    env,
    database,
    temporal: temporal.client,
    providers,
    timers: timersFromEnv(env),
    logger,
    defaultTemplates: { persona: env.PERSONA_TEMPLATE_ID ?? 'itmpl_test' },
  });
  await app.listen({ host: '127.0.0.1', port: apiPort });
  t.teardown(() => app.close());
  if (options.startSweeper) {
    const stopSweeper = startSweeper({ db: database.db, temporal: temporal.client, logger, metrics, env });
    t.teardown(stopSweeper);
  }

  const worker = options.worker === false ? null : await startWorker();
  return {
    env,
    app,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    sandboxUrl: sandbox.url,
    temporal,
    database,
    directDb: testDb.db,
    tenantId,
    worker,
    startWorker,
    providers,
    request: authorizedRequest(app),
  };
}

function withCapabilities(
  registry: ProviderRegistry,
  overrides: Partial<Record<ProviderName, Partial<ProviderCapabilities>>>,
): ProviderRegistry {
  return {
    ...registry,
    get(name) {
      const adapter = registry.get(name);
      const override = overrides[name as ProviderName];
      return override ? { ...adapter, capabilities: { ...adapter.capabilities, ...override } } : adapter;
    },
  };
}
