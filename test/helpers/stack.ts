// The whole veriflow stack for an integration test: a real Temporal dev server, a fresh
// Postgres database, the provider sandbox, the worker (real workflow bundle) and the HTTP API
// listening on loopback so the sandbox can deliver webhooks to it.
import type { Worker } from '@temporalio/worker';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import type { Test } from 'tap';
import { ensureDevTenant } from '../../api/services/tenants.ts';
import { parseEnv, type Env, type WorkerTuning } from '../../config/env.ts';
import { createDatabase, type Database, type DatabaseHandle } from '../../db/client.ts';
import type { ProviderCapabilities } from '../../domain/provider-capabilities.ts';
import type { ProviderName } from '../../domain/verification.ts';
import type { ProviderRegistry } from '../../providers/index.ts';
import { composeApi } from '../../wiring/api-root.ts';
import { providersFromEnv } from '../../wiring/providers.ts';
import { composeWorker, workflowBundleOptions } from '../../wiring/worker-root.ts';
import { startSandbox } from '../../sandbox/server.ts';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.ts';
import { authorizedRequest, type AuthorizedRequest } from './app.ts';
import { createTestDatabase } from './database.ts';
import { startTestTemporal, type TestTemporal } from './temporal.ts';
import { cachedWorkflowBundle } from './workflow-bundle-cache.ts';
import { SANDBOX_SECRETS, TEST_API_KEY, testAppEnv } from './test-env.ts';

// Re-exported so an integration test needs one import for the stack, its waits and its credentials.
export { eventually } from './eventually.ts';
export { IDMETA_SECRETS, PERSONA_SECRETS, SMILEID_SECRETS, STRIPE_SECRETS, TEST_API_KEY, TEST_OPERATOR_TOKEN } from './test-env.ts';

let bundle: Promise<{ code: string }> | undefined;
/** Bundling takes seconds of CPU: once per change of the workflow code (workflow-bundle-cache.ts), read once per test file. */
export function workflowBundle(): Promise<{ code: string }> {
  bundle ??= cachedWorkflowBundle(workflowBundleOptions('ERROR')).then(measurable);
  return bundle;
}

/**
 * Under c8 (NODE_V8_COVERAGE set), the bundle is written to coverage/workflow-bundles/ and its
 * inline source map names that file. The worker runs the bundle under the name its source map
 * gives, so V8 reports the workflow code's coverage against a file c8 can read, and c8 maps it
 * back through the source map to workflows/*.ts (.c8rc.json `excludeAfterRemap`). Without it,
 * workflow code would run under a name no file has and never count as covered.
 */
async function measurable(bundled: { code: string }): Promise<{ code: string }> {
  if (!process.env.NODE_V8_COVERAGE) return bundled;
  // Found as the worker finds it (Worker's extractSourceMap).
  const at = bundled.code.lastIndexOf('//# sourceMappingURL=data:');
  const base64 = bundled.code.indexOf('base64,', at);
  if (at < 0 || base64 < 0) return bundled;
  const sourceMap = JSON.parse(Buffer.from(bundled.code.slice(base64 + 'base64,'.length).trimEnd(), 'base64').toString());
  const file = path.resolve('coverage', 'workflow-bundles', path.basename(String(sourceMap.file)));
  sourceMap.file = file;
  const mapJson = JSON.stringify(sourceMap);
  // Byte for byte what the worker runs (it appends the map this way when the name is absolute).
  const code = `${bundled.code.slice(0, at)}\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(mapJson).toString('base64')}`;
  await mkdir(path.dirname(file), { recursive: true });
  // Test files bundle the same code concurrently: write aside, then rename into place.
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, code);
  await rename(partial, file);
  return { code };
}

export interface StackOptions {
  /** Extra environment (timer durations, …) on top of the test defaults. */
  env?: Record<string, string>;
  /** Start without a worker (tests that start their own, or none). */
  worker?: boolean;
  /** Use this Temporal server (e.g. one the test restarts) and its namespace instead of startTestTemporal's; the caller stops it. */
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
    TEMPORAL_NAMESPACE: temporal.namespace,
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
  const workerEnv = { ...env, TEMPORAL_ADDRESS: temporal.address };
  const startWorker = async (workerOptions: WorkerStartOptions = {}) => {
    // The production worker's wiring on the stack's database and bundle, without the schedules.
    const root = await composeWorker(workerEnv, {
      logger: workerOptions.logger ?? logger,
      database,
      providers: workerOptions.providers ?? providers,
      workflowBundle: await workflowBundle(),
      schedules: false,
      ...(workerOptions.tuning ? { tuning: workerOptions.tuning } : {}),
      ...(workerOptions.identity ? { identity: workerOptions.identity } : {}),
      ...(workerOptions.buildId ? { buildId: workerOptions.buildId } : {}),
    });
    t.teardown(() => root.shutdown());
    return root.worker;
  };

  // The production API's wiring on the stack's database and Temporal client (both closed by the stack).
  const api = await composeApi(env, {
    logger,
    database,
    temporal: temporal.client,
    providers,
    sweeper: options.startSweeper ?? false,
  });
  t.teardown(() => api.close());
  const { app } = api;

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
