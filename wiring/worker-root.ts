// The composition root of a worker process: what worker.ts runs in production, and what npm run dev
// (as a child), the test stack (in process and as a child) and the bench start. Every worker is
// wired here, once; callers override only what really differs (an open database, a logger, a
// pre-built bundle, wrapped providers).
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
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities, type ActivityDeps } from '../activities/index.ts';
import { sharedProviderReadBudget } from '../activities/read-budget.ts';
import {
  personalDataRetentionMs,
  providerReadBudgetFromEnv,
  timersFromEnv,
  workerTuningFromEnv,
  type Env,
  type WorkerTuning,
} from '../config/env.ts';
import type { DatabaseHandle } from '../db/client.ts';
import type { ProviderRegistry } from '../providers/index.ts';
import { failureConverterPath, getDataConverter } from './codec.ts';
import { createLogger } from './logger.ts';
import { mailerFromEnv } from './mailer.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { observeWorkflowThreadHeap, workflowThreads } from './workflow-thread-heap.ts';
import { outboundPolicyFromEnv } from './outbound-address.ts';
import { sourceOrCompiled } from './module-path.ts';
import { OwnedResources } from './owned-resources.ts';
import { providersFromEnv } from './providers.ts';
import { ensureRetentionSchedule, ensureTemplateSyncSchedule, templateProviders } from './schedules.ts';
import { connectClient, connectWorker } from './temporal.ts';
import { tracingActivityInterceptors, tracingSinks, WORKFLOW_TRACING_MODULES } from './tracing.ts';
import {
  buildIdOfWorkflowCode,
  defaultPromotion,
  deploymentVersion,
  promoteVersion,
  versionedWorkerOptions,
  type PromotionResult,
  type VersionPromotion,
} from './worker-deployment.ts';

export function workflowsPath(): string {
  return sourceOrCompiled(new URL('../workflows/index.ts', import.meta.url));
}

/** Written by `npm run build` (scripts/build.ts) next to the compiled worker (dist/). */
export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';

/**
 * The workflow code bundled from source, as every worker runs it: the same failure converter as
 * the workers' data converter (workflow errors are encrypted too) and the tracing interceptors
 * (always in: one bundle serves environments with and without tracing).
 */
export function workflowBundleOptions(logLevel: LogLevel = 'WARN') {
  return {
    workflowsPath: workflowsPath(),
    workflowInterceptorModules: WORKFLOW_TRACING_MODULES,
    // Loaded once per workflow thread and shared by its workflows.
    preloadModules: [sourceOrCompiled(new URL('../workflows/shared-modules.ts', import.meta.url))],
    failureConverterPath: failureConverterPath(),
    logger: new DefaultLogger(logLevel),
  };
}

export function bundleWorkflows(logLevel: LogLevel = 'WARN'): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode(workflowBundleOptions(logLevel));
}

/**
 * The workflow code the worker runs: the bundle `npm run build` wrote beside the compiled worker
 * (production starts without webpack), else bundled from source at start (dev and tests).
 * Read, not only pointed at: its hash is the default build id.
 */
async function workflowCode(): Promise<WorkflowBundle> {
  const codePath = fileURLToPath(new URL(`../${WORKFLOW_BUNDLE_FILE}`, import.meta.url));
  if (existsSync(codePath)) return { code: await readFile(codePath, 'utf8') };
  return bundleWorkflows();
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
export function installTemporalRuntime(logger: Logger, metricsBind?: string, shutdownSignals?: NodeJS.Signals[]): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    ...(shutdownSignals ? { shutdownSignals } : {}),
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
  // A pre-built bundle must have been bundled as bundleWorkflows does (same failureConverterPath
  // and workflow tracing interceptors).
  const bundle = workflowBundle ?? (await workflowCode());
  // The SDK has no option for its per-promise stack capture: the workflow threads Worker.create
  // starts read this from the environment they inherit (patches/@temporalio+worker+1.24.0.patch).
  if (tuning.workflowStackTraces !== undefined) process.env.TEMPORAL_WORKFLOW_STACK_TRACES = tuning.workflowStackTraces ? 'on' : 'off';
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

type WorkerEnv = Env & { TEMPORAL_ADDRESS: string };

/** The template-sync and retention schedules; a failure is logged, not fatal: verifications do not depend on them. */
async function ensureSchedules(env: WorkerEnv, providers: ProviderRegistry, logger: Logger): Promise<void> {
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

/** What differs from a production worker; everything omitted is built from the configuration. */
export interface WorkerOverrides {
  /** Default: the JSON logger on stdout (LOG_LEVEL), named veriflow-worker. */
  logger?: Logger;
  /** An open database, left open at close (tests share theirs); default: DATABASE_URL, migrated, closed with the worker. */
  database?: DatabaseHandle;
  /** Default: the providers the configuration holds credentials for. */
  providers?: ProviderRegistry;
  /** Pre-bundled workflow code (tests bundle once per file); default: the built bundle, else bundled from source. */
  workflowBundle?: WorkflowBundle;
  /** On top of the WORKER_* tuning. */
  tuning?: Partial<WorkerTuning>;
  identity?: string;
  /** Default: WORKER_BUILD_ID, else a hash of the workflow code. */
  buildId?: string;
  /** The signals on which the SDK stops the worker; default its own (SIGINT, SIGTERM, SIGQUIT, SIGUSR2). */
  shutdownSignals?: NodeJS.Signals[];
  /** Ensure the template-sync and retention schedules once polling (default true; tests that do not test them skip it). */
  schedules?: boolean;
}

export interface WorkerRoot {
  worker: Worker;
  connection: NativeConnection;
  database: DatabaseHandle;
  logger: Logger;
  metrics: Metrics;
  promotion: PromotionResult;
  /** Resolves once the worker has stopped (shutdown(), or the SDK on SIGINT/SIGTERM) and what the root opened is closed. */
  stopped: Promise<void>;
  /** Stops polling, lets in-flight tasks finish (WORKER_SHUTDOWN_GRACE_TIME) and resolves with `stopped`. */
  shutdown(): Promise<void>;
}

/**
 * A verification worker wired from the configuration, polling, its build made current as
 * WORKER_VERSION_PROMOTION allows (default: initial in production, always elsewhere).
 */
export async function composeWorker(env: WorkerEnv, overrides: WorkerOverrides = {}): Promise<WorkerRoot> {
  const logger = overrides.logger ?? createLogger(env, 'veriflow-worker');
  installTemporalRuntime(logger, env.TEMPORAL_METRICS_BIND, overrides.shutdownSignals);
  // Closed by the worker once it stops, or here if wiring fails first.
  const owned = new OwnedResources();
  try {
    const metrics = createMetrics();
    if (env.METRICS_PORT) {
      const metricsServer = await serveMetrics(metrics, env.HOST, env.METRICS_PORT);
      owned.add(() => void metricsServer.close());
    }
    const database = await owned.database(env, overrides.database);
    const connection = await connectWorker(env);
    owned.add(() => connection.close());
    const providers = overrides.providers ?? providersFromEnv(env);
    const buildId = overrides.buildId ?? env.WORKER_BUILD_ID;
    const worker = await createVerificationWorker({
      connection,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      db: database.db,
      providers,
      logger,
      metrics,
      readBudget: sharedProviderReadBudget(database.db, providerReadBudgetFromEnv(env), {
        onStoreDown: (err) =>
          logger.warn({ err }, "provider read budget: database unreachable; this worker's own budget decides until it answers"),
        onStoreUp: () => logger.info('provider read budget: shared again'),
      }),
      mailer: mailerFromEnv(env),
      outbound: outboundPolicyFromEnv(env),
      dataConverter: getDataConverter(env),
      tuning: { ...workerTuningFromEnv(env), ...overrides.tuning },
      ...(overrides.workflowBundle ? { workflowBundle: overrides.workflowBundle } : {}),
      ...(overrides.identity ? { identity: overrides.identity } : {}),
      ...(buildId ? { buildId } : {}),
    });
    observeWorkflowThreadHeap(metrics.registry, workflowThreads(worker));
    // From here the worker owns the closing: once run() resolves (in-flight tasks drained).
    const stopped = worker.run().finally(() => owned.close());
    const shutdown = () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      return stopped;
    };
    let promotion: PromotionResult;
    try {
      promotion = await promoteWorker(worker, connection, env.WORKER_VERSION_PROMOTION ?? defaultPromotion(env.NODE_ENV));
    } catch (error) {
      await shutdown().catch(() => undefined);
      throw error;
    }
    logger.info({ version: worker.options.workerDeploymentOptions?.version, promotion }, 'worker build polling');
    if (overrides.schedules ?? true) await ensureSchedules(env, providers, logger);
    return { worker, connection, database, logger, metrics, promotion, stopped, shutdown };
  } catch (error) {
    await owned.close();
    throw error;
  }
}
