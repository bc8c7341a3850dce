// The Temporal worker: runs verification workflows and their activities. The wiring is
// wiring/worker-root.ts; this entry checks the configuration, traces, and exits with grace.
import { fileURLToPath } from 'node:url';
import { InvalidConfigError, parseEnv, shutdownDeadlineMs } from './config/env.ts';
import { heapLimitMb, workflowCacheHeapProblem } from './config/worker-heap.ts';
import { runThreadsAsBatch } from './wiring/cpu-scheduling.ts';
import { exitGracefullyOnSignal, shutdownSignals } from './wiring/graceful-exit.ts';
import { startTracingFromEnv, stopTracing } from './wiring/tracing.ts';
import { composeWorker } from './wiring/worker-root.ts';

async function main(): Promise<void> {
  const env = parseEnv();
  if (!env.TEMPORAL_ADDRESS)
    throw new Error('TEMPORAL_ADDRESS is not set: the standalone worker needs a Temporal server (npm run dev starts one for you).');
  if (!env.DATABASE_URL)
    throw new Error(
      'DATABASE_URL is not set: a standalone worker needs Postgres shared with the API (embedded PGlite works only inside npm run dev).',
    );
  const heapProblem = workflowCacheHeapProblem(env.WORKER_MAX_CACHED_WORKFLOWS, heapLimitMb());
  if (heapProblem && env.NODE_ENV === 'production') throw new InvalidConfigError(`Invalid configuration: ${heapProblem}`);
  if (heapProblem) console.warn(`Warning: ${heapProblem}`);
  // Before the SDK starts its threads, which then inherit the policy.
  const notBatch = env.WORKER_CPU_SCHEDULING === 'batch' ? await runThreadsAsBatch() : null;
  startTracingFromEnv(env, 'veriflow-worker');
  const signals = shutdownSignals();
  const root = await composeWorker({ ...env, TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS }, { shutdownSignals: signals });
  if (notBatch) root.logger.warn({ reason: notBatch }, 'WORKER_CPU_SCHEDULING=batch not applied: the worker runs under the normal policy');
  const cpuScheduling = env.WORKER_CPU_SCHEDULING === 'batch' && !notBatch ? 'batch' : 'normal';
  root.logger.info({ taskQueue: env.TEMPORAL_TASK_QUEUE, cpuScheduling }, 'worker started');
  // Started by `npm run dev` (fork): it prints its banner only once the worker polls.
  process.send?.('ready');
  // The SDK stops the worker on these signals; `stopped` resolves once in-flight tasks have drained.
  const stopped = root.stopped.then(stopTracing);
  exitGracefullyOnSignal({ deadlineMs: shutdownDeadlineMs(env), logger: root.logger, signals }, () => stopped);
  await stopped;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    // A configuration error is for the operator: its one line says what to set, a stack adds nothing.
    console.error(err instanceof InvalidConfigError ? err.message : err);
    process.exit(1);
  });
}
