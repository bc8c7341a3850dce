// The Temporal worker: runs verification workflows and their activities.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Runtime,
  Worker,
  type LogLevel,
  type NativeConnection,
  type WorkflowBundle,
} from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities, type ActivityDeps } from './activities/index.js';
import {
  InvalidConfigError,
  parseEnv,
  shutdownDeadlineMs,
  personalDataRetentionMs,
  timersFromEnv,
  workerTuningFromEnv,
  type Env,
  type WorkerTuning,
} from './config/env.js';
import { createDatabase } from './db/client.js';
import { migrateDatabase } from './db/migrate.js';
import type { ProviderRegistry } from './providers/index.js';
import { failureConverterPath, getDataConverter } from './runtime/codec.js';
import { exitGracefullyOnSignal } from './runtime/graceful-exit.js';
import { createLogger } from './runtime/logger.js';
import { mailerFromEnv } from './runtime/mailer.js';
import { createMetrics, type Metrics } from './runtime/metrics.js';
import { outboundPolicyFromEnv } from './runtime/outbound-address.js';
import { providersFromEnv } from './runtime/providers.js';
import { ensureRetentionSchedule, ensureTemplateSyncSchedule, templateProviders } from './runtime/schedules.js';
import { connectClient, connectWorker } from './runtime/temporal.js';
import {
  startTracingFromEnv,
  stopTracing,
  tracingActivityInterceptors,
  tracingSinks,
  WORKFLOW_TRACING_MODULES,
} from './runtime/tracing.js';
import {
  buildIdOfWorkflowCode,
  defaultPromotion,
  deploymentVersion,
  promoteVersion,
  versionedWorkerOptions,
  type PromotionResult,
  type VersionPromotion,
} from './runtime/worker-deployment.js';

/** Under tsx the sources are .ts; compiled, they are .js beside this file. */
export function workflowsPath(): string {
  const ts = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));
  return existsSync(ts) ? ts : fileURLToPath(new URL('./workflows/index.js', import.meta.url));
}

/** Written by `npm run build` (scripts/build.ts) next to the compiled worker. */
export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';

/**
 * The workflow code the worker runs: the bundle `npm run build` wrote beside the compiled worker
 * (production starts without webpack), else bundled from source at start (tsx, dev and tests).
 * Read, not only pointed at: its hash is the default build id.
 */
async function workflowCode(): Promise<WorkflowBundle> {
  const codePath = fileURLToPath(new URL(`./${WORKFLOW_BUNDLE_FILE}`, import.meta.url));
  if (existsSync(codePath)) return { code: await readFile(codePath, 'utf8') };
  // The same failure converter as the workers' data converter (as scripts/build.ts bundles).
  return bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    workflowInterceptorModules: WORKFLOW_TRACING_MODULES,
    failureConverterPath: failureConverterPath(),
    logger: new DefaultLogger('WARN'),
  });
}

let runtimeInstalled = false;

const PINO_LEVEL = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const satisfies Record<
  LogLevel,
  string
>;

/**
 * Route the SDK core's logs into our JSON logger and, when asked, export its Prometheus metrics
 * (worker pollers, task latencies) on `metricsBind`. The Runtime can be installed once per process.
 */
export function installTemporalRuntime(logger: Logger, metricsBind?: string): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    telemetryOptions: {
      // Without `forward` the Rust core logs (connection retries, …) bypass this logger: plain text on stderr.
      // Forwarding holds the event loop until the runtime shuts down (last worker/connection closed).
      logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
      ...(metricsBind ? { metrics: { prometheus: { bindAddress: metricsBind } } } : {}),
    },
    // INFO and up reach pino (whose own level filters further): workflow code logs through the
    // workflow `log`, whose default sink ends here with workflowId, runId and workflowType attached.
    logger: new DefaultLogger('INFO', (entry) => {
      logger[PINO_LEVEL[entry.level]]({ ...entry.meta, component: 'temporal' }, entry.message);
    }),
  });
}

export interface VerificationWorkerOptions extends ActivityDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** Pre-bundled workflow code (tests bundle once per file); else the built bundle or bundled from source. */
  workflowBundle?: WorkflowBundle;
  /** This build's id in the task queue's worker deployment (WORKER_BUILD_ID); a hash of the workflow code when omitted. */
  buildId?: string;
  /** The encrypting data converter shared with the clients (getDataConverter). */
  dataConverter: DataConverter;
  /** Concurrency and shutdown grace (workerTuningFromEnv); the SDK's defaults for what is omitted. */
  tuning?: Partial<WorkerTuning>;
  /** Shown in workflow histories (ActivityTaskStarted) and the Web UI's pollers list; the SDK's pid@host when omitted. */
  identity?: string;
}

export async function createVerificationWorker({
  connection,
  namespace,
  taskQueue,
  workflowBundle,
  buildId,
  dataConverter,
  tuning = {},
  identity,
  ...deps
}: VerificationWorkerOptions): Promise<Worker> {
  // A pre-built bundle must have been bundled with the same failureConverterPath and the workflow
  // tracing interceptors (see test/helpers/stack.ts and scripts/build.ts).
  const bundle = workflowBundle ?? (await workflowCode());
  return Worker.create({
    connection,
    namespace,
    taskQueue,
    workflowBundle: bundle,
    workerDeploymentOptions: versionedWorkerOptions(deploymentVersion(taskQueue, buildId ?? buildIdOfWorkflowCode(bundle.code))),
    interceptors: { activity: tracingActivityInterceptors() },
    sinks: tracingSinks(),
    activities: createActivities(deps),
    dataConverter,
    ...(identity ? { identity } : {}),
    ...(tuning.maxConcurrentActivityTaskExecutions === undefined
      ? {}
      : { maxConcurrentActivityTaskExecutions: tuning.maxConcurrentActivityTaskExecutions }),
    ...(tuning.maxConcurrentWorkflowTaskExecutions === undefined
      ? {}
      : { maxConcurrentWorkflowTaskExecutions: tuning.maxConcurrentWorkflowTaskExecutions }),
    ...(tuning.maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows: tuning.maxCachedWorkflows }),
    ...(tuning.shutdownGraceTimeMs === undefined ? {} : { shutdownGraceTime: tuning.shutdownGraceTimeMs }),
  });
}

/**
 * Makes the running worker's build current as `promotion` allows (README "Upgrading"): until a
 * build is current, the server routes no new workflow to it.
 */
export function promoteWorker(worker: Worker, connection: NativeConnection, promotion: VersionPromotion): Promise<PromotionResult> {
  const { namespace, taskQueue, workerDeploymentOptions } = worker.options;
  if (!workerDeploymentOptions) throw new Error('the worker is not versioned');
  return promoteVersion(connection.workflowService, { namespace, taskQueue, version: workerDeploymentOptions.version }, promotion);
}

/** The template-sync and retention schedules; a failure is logged, not fatal: verifications do not depend on them. */
async function ensureSchedules(env: Env & { TEMPORAL_ADDRESS: string }, providers: ProviderRegistry, logger: Logger): Promise<void> {
  const names = templateProviders(providers);
  try {
    const client = await connectClient(env);
    try {
      if (names.length > 0) {
        const result = await ensureTemplateSyncSchedule(client, env.TEMPORAL_TASK_QUEUE, { providers: names });
        logger.info({ providers: names, result }, 'template sync schedule ensured');
      }
      const retention = await ensureRetentionSchedule(client, env.TEMPORAL_TASK_QUEUE, {
        retentionMs: personalDataRetentionMs(env),
        retryScheduleMs: timersFromEnv(env).webhookRetryScheduleMs,
      });
      logger.info({ retention: env.RETENTION_PERSONAL_DATA ?? null, result: retention }, 'personal data retention schedule ensured');
    } finally {
      await client.connection.close();
    }
  } catch (err) {
    logger.warn({ err }, 'schedules could not be ensured');
  }
}

async function main(): Promise<void> {
  const env = parseEnv();
  if (!env.TEMPORAL_ADDRESS)
    throw new Error('TEMPORAL_ADDRESS is not set: the standalone worker needs a Temporal server (npm run dev starts one for you).');
  if (!env.DATABASE_URL)
    throw new Error(
      'DATABASE_URL is not set: a standalone worker needs Postgres shared with the API (embedded PGlite works only inside npm run dev).',
    );
  startTracingFromEnv(env, 'veriflow-worker');
  const logger = createLogger(env, 'veriflow-worker');
  installTemporalRuntime(logger, env.TEMPORAL_METRICS_BIND);
  const metrics = createMetrics();
  const metricsServer = env.METRICS_PORT ? await serveMetrics(metrics, env.HOST, env.METRICS_PORT) : null;
  const database = await createDatabase({ url: env.DATABASE_URL });
  await migrateDatabase(database.db);
  const connection = await connectWorker({ ...env, TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS });
  const providers = providersFromEnv(env);
  const worker = await createVerificationWorker({
    connection,
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
    ...(env.WORKER_BUILD_ID ? { buildId: env.WORKER_BUILD_ID } : {}),
  });
  const running = worker.run();
  const version = worker.options.workerDeploymentOptions?.version;
  const promotion = await promoteWorker(worker, connection, env.WORKER_VERSION_PROMOTION ?? defaultPromotion(env.NODE_ENV));
  logger.info({ version, promotion }, 'worker build polling');
  await ensureSchedules({ ...env, TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS }, providers, logger);
  logger.info({ taskQueue: env.TEMPORAL_TASK_QUEUE }, 'worker started');
  // Started by `npm run dev` (fork): it prints its banner only once the worker polls.
  process.send?.('ready');
  // The SDK stops the worker on SIGINT/SIGTERM; run() resolves once in-flight tasks have drained.
  const stopped = running.then(async () => {
    await connection.close();
    await database.close();
    metricsServer?.close();
    await stopTracing();
  });
  exitGracefullyOnSignal({ deadlineMs: shutdownDeadlineMs(env), logger }, () => stopped);
  await stopped;
}

/** A standalone worker has no HTTP API, so its metrics get a minimal server of their own. */
function serveMetrics(metrics: Metrics, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    // A configuration error is for the operator: its one line says what to set, a stack adds nothing.
    console.error(err instanceof InvalidConfigError ? err.message : err);
    process.exit(1);
  });
}
