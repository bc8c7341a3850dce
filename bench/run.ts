// `npm run bench`: measures veriflow against the limits of this machine, on loopback, with the
// real stack started here — Temporal dev server, a fresh Postgres database, the sandbox, and the
// API and worker each in their own process (the load generator must not share their CPU time).
// Bounded in count and time; prints a markdown table and writes JSON to bench/results/. The
// signature-cost table (bench/signature-cost.ts) is measured first, before the stack starts.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { and, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import postgres from 'postgres';
import Stripe from 'stripe';
import { Pool } from 'undici';
import { ensureDevTenant } from '../api/services/tenants.ts';
import { parseEnv, workerTuningFromEnv } from '../config/env.ts';
import { createDatabase } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { verifications, webhookEvents } from '../db/schema/index.ts';
import { verificationWorkflowId } from '../workflows/messages.ts';
import type { SandboxOptions } from '../sandbox/server.ts';
import { pickFreePort, startTemporalDevServer } from '../scripts/lib/temporal-dev-server.ts';
import { personaEventBody, signPersona } from '../test/helpers/persona-webhooks.ts';
import { parseExposition } from '../test/helpers/promql.ts';
import { costPer, pidsNamed, renderCostProfile, snapshotCost, type CostSources } from './cost-profile.ts';
import { BENCH_SECRETS, WORKER_PROCESS_ENV, benchProcessEnv } from './process-env.ts';
import { CREATE_CONCURRENCY, judgeGoals, renderGoals } from './goals.ts';
import { BenchRun } from './lifecycle.ts';
import { measureReplayCost, renderReplayCost } from './replay-cost.ts';
import { measureCreationCost, renderCreationCost } from './workflow-creation-cost.ts';
import { measureCachedWorkflowHeap, renderCachedWorkflowHeap } from './cached-workflow-heap.ts';
import { measureSignatureCost, renderSignatureCost } from './signature-cost.ts';
import { closedLoop, openLoop, sleep, summarize, type LatencySummary, type LoadResult } from './stats.ts';

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const API_KEY = 'vf_bench_key_000001';
const BENCH_OPERATOR_TOKEN = `vf_op_${randomBytes(16).toString('hex')}`;
const SECRETS = BENCH_SECRETS;
/** The sandbox's three-step template (document, selfie, database check). */
const THREE_STEP_TEMPLATE = '306';
const RATES = (process.env.BENCH_RATES ?? '50,100,200,500').split(',').map(Number);
const PHASE_MS = Number(process.env.BENCH_PHASE_MS ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const SCALE = Number(process.env.BENCH_SCALE ?? 10_000);
const BURST = Number(process.env.BENCH_BURST ?? 1000);
const COST_WEBHOOKS = Number(process.env.BENCH_COST_WEBHOOKS ?? 200);
const WARM_UP_MS = 2000;
/**
 * The worker's niceness (BENCH_WORKER_NICE=10: requests win the CPU on this one host). Not the
 * default: acks and creates got much faster, but under 500/s the starved worker's backlog once
 * kept a new session from appearing for two minutes (README "Benchmarks").
 */
const WORKER_NICE = Number(process.env.BENCH_WORKER_NICE ?? 0);
/**
 * `intake`: run the webhook intake phases only (open-loop acks at BENCH_RATES), print their table,
 *   wait for the backlog they leave and print what applying it took (time, the worker's memory), and stop.
 * `scale`: run the scale phase only (BENCH_SCALE open verifications, then BENCH_BURST webhooks).
 * `cost`: run the cost profile only (BENCH_COST_WEBHOOKS webhooks), print its table and stop.
 * `create`: run the create rows only (ours with the worker stopped, raw workflow.start, ours), print them and stop.
 */
const ONLY = process.env.BENCH_ONLY;

const log = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
/** BENCH_HARD_STOP_MINUTES bounds the whole run; BENCH_SESSIONS_MINUTES how long the scale phase waits for its sessions. */
const HARD_STOP_MINUTES = Number(process.env.BENCH_HARD_STOP_MINUTES ?? 15);
const SESSIONS_MINUTES = Number(process.env.BENCH_SESSIONS_MINUTES ?? 6);
const bench = new BenchRun({ hardStopMs: HARD_STOP_MINUTES * 60_000, log });

async function waitReady(url: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    const ok = await fetch(url).then(
      async (r) => ((last = `${r.status} ${await r.text()}`), r.ok),
      (error: unknown) => ((last = String(error)), false),
    );
    if (ok) return;
    await sleep(250);
  }
  throw new Error(`${url} not ready in ${timeoutMs} ms (last: ${last})`);
}

/** Resident memory of a process now (VmRSS) or its peak so far (VmHWM). */
function rssMb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): Promise<number> {
  return readFile(`/proc/${pid}/status`, 'utf8').then((s) =>
    Math.round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(s)?.[1] ?? 0) / 1024),
  );
}

const STICKY_CACHE_METRICS = {
  sticky_cache_size: 'size',
  sticky_cache_hit: 'hits',
  sticky_cache_miss: 'misses',
  sticky_cache_total_forced_eviction: 'forcedEvictions',
} as const;
type WorkerTaskMetrics = Partial<
  Record<(typeof STICKY_CACHE_METRICS)[keyof typeof STICKY_CACHE_METRICS] | 'taskMsSum' | 'taskCount' | 'taskFailures', number>
>;

/** The worker's sticky cache and its verification workflow task times, as the Temporal SDK exports them (TEMPORAL_METRICS_BIND), summed over labels. */
async function workerTaskMetricsOf(metricsUrl: string): Promise<WorkerTaskMetrics> {
  const totals: WorkerTaskMetrics = {};
  const add = (key: keyof WorkerTaskMetrics, value: number) => (totals[key] = (totals[key] ?? 0) + value);
  for (const { name, labels, value } of parseExposition(await fetch(metricsUrl).then((r) => r.text()))) {
    if (!name.startsWith('temporal_')) continue;
    const metric = name.slice('temporal_'.length).replace(/_total$/, '');
    const cacheKey = STICKY_CACHE_METRICS[metric as keyof typeof STICKY_CACHE_METRICS];
    if (cacheKey) add(cacheKey, value);
    // Verification workflow tasks and the time they took, start to completion (replays of evicted workflows included).
    else if (metric === 'workflow_task_execution_latency_sum' && labels.workflow_type === 'verification') add('taskMsSum', value);
    else if (metric === 'workflow_task_execution_latency_count' && labels.workflow_type === 'verification') add('taskCount', value);
    // Failed workflow tasks of any workflow: a deadlock deadline hit under load would count here.
    else if (metric === 'workflow_task_execution_failed') add('taskFailures', value);
  }
  return totals;
}

/** Mean milliseconds a verification workflow task took between two readings of the worker's metrics. */
function meanTaskMs(from: WorkerTaskMetrics, to: WorkerTaskMetrics): number {
  const count = (to.taskCount ?? 0) - (from.taskCount ?? 0);
  return count > 0 ? round2(((to.taskMsSum ?? 0) - (from.taskMsSum ?? 0)) / count) : 0;
}

/**
 * The worker's V8 heaps from its metrics: the main thread's (used, reserved) and native memory
 * from prom-client's defaults, and the SDK's workflow thread's (used, limit), where cached
 * workflows live (veriflow_workflow_thread_heap_bytes; summed over threads: the SDK runs one).
 */
async function heapOf(metricsUrl: string): Promise<WorkerHeap> {
  const samples = parseExposition(await fetch(metricsUrl).then((r) => r.text()));
  const mb = (name: string, kind?: string) =>
    Math.round(
      samples
        .filter((sample) => sample.name === `veriflow_${name}` && (kind === undefined || sample.labels.kind === kind))
        .reduce((sum, sample) => sum + sample.value, 0) /
        2 ** 20,
    );
  return {
    usedMb: mb('nodejs_heap_size_used_bytes'),
    totalMb: mb('nodejs_heap_size_total_bytes'),
    externalMb: mb('nodejs_external_memory_bytes'),
    workflowThreadUsedMb: mb('workflow_thread_heap_bytes', 'used'),
    workflowThreadLimitMb: mb('workflow_thread_heap_bytes', 'limit'),
  };
}

interface WorkerHeap {
  usedMb: number;
  totalMb: number;
  externalMb: number;
  workflowThreadUsedMb: number;
  workflowThreadLimitMb: number;
}

async function main(): Promise<void> {
  const startedAt = new Date();
  // CPU-only and in-process: measured before the stack competes for the cores.
  log('measuring webhook signature verification cost');
  const signatureCost = measureSignatureCost();
  bench.measured.signatureCost = signatureCost;
  log('measuring workflow CPU per workflow task (recorded histories replayed, stack traces on and off)');
  const replayCost = await measureReplayCost();
  bench.measured.replayCost = replayCost;
  log('measuring what creating a workflow costs its thread (shared modules on and off)');
  const creationCost = await measureCreationCost();
  bench.measured.creationCost = creationCost;
  // A worker, Temporal and Postgres of its own, in a child process, before the bench's stack starts.
  log("measuring the workflow thread's live heap per cached verification");
  const cachedWorkflowHeap = await measureCachedWorkflowHeap();
  bench.measured.cachedWorkflowHeap = cachedWorkflowHeap;
  // Infrastructure: Temporal, a fresh database, the sandbox.
  log('starting Temporal dev server, database, sandbox');
  const temporal = await startTemporalDevServer({ dbFile: null, uiPort: null });
  bench.onStop(() => temporal.stop());
  const dbName = `vf_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin`create database ${admin(dbName)}`;
  bench.onStop(async () => {
    await admin`drop database if exists ${admin(dbName)} with (force)`;
    await admin.end();
  });
  const dbUrl = Object.assign(new URL(ADMIN_URL), { pathname: `/${dbName}` }).toString();
  // The API and worker reach Postgres through a counting proxy (round trips for the cost profile).
  const pgProxy = await bench.child<{ port: number; statsUrl: string }>(
    'pg-proxy',
    ['bench/pg-proxy-process.ts'],
    { BENCH_PG_TARGET: ADMIN_URL },
    { announces: true },
  );
  const proxiedDbUrl = Object.assign(new URL(dbUrl), { port: String(pgProxy.ready.port) }).toString();
  const database = await createDatabase({ url: dbUrl });
  bench.onStop(() => database.close());
  await migrateDatabase(database.db);
  await ensureDevTenant(database.db, API_KEY);

  const apiPort = await pickFreePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const sandboxOptions: SandboxOptions = {
    webhookTargets: { persona: `${apiUrl}/webhooks/persona`, stripe: `${apiUrl}/webhooks/stripe`, idmeta: `${apiUrl}/webhooks/idmeta` },
    secrets: SECRETS,
    webhookRetryDelaysMs: [0, 500, 2000],
  };
  const { proc: sandboxProc, ready: sandbox } = await bench.child<{ url: string; statsUrl: string }>(
    'sandbox',
    ['bench/sandbox-process.ts'],
    { BENCH_SANDBOX_OPTIONS: JSON.stringify(sandboxOptions) },
    { announces: true },
  );

  const env = benchProcessEnv({
    apiPort,
    databaseUrl: proxiedDbUrl,
    temporalAddress: temporal.address,
    sandboxUrl: sandbox.url,
    operatorToken: BENCH_OPERATOR_TOKEN,
  });

  log('starting API and worker processes');
  // BENCH_PROFILE=1 writes V8 CPU profiles of the API and worker to bench/results/ for analysis.
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=bench/results'] : [];
  // Their warnings and errors (LOG_LEVEL warn): a failed workflow task or a refused request says why there.
  const logFile = (name: string) => fileURLToPath(new URL(`./results/${runStamp(startedAt)}-${name}.log`, import.meta.url));
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  log(`API and worker logs: ${logFile('api')}, ${logFile('worker')}`);
  const { proc: api } = await bench.child('api', [...profile, 'api/server.ts'], env, { logFile: logFile('api') });
  const [workerMetricsPort, temporalMetricsPort] = [await pickFreePort(), await pickFreePort()];
  // BENCH_WORKER_NODE_OPTIONS (e.g. --max-old-space-size=128) is the worker's NODE_OPTIONS alone.
  const workerEnv = {
    ...env,
    ...WORKER_PROCESS_ENV,
    METRICS_PORT: String(workerMetricsPort),
    TEMPORAL_METRICS_BIND: `127.0.0.1:${temporalMetricsPort}`,
    ...(process.env.BENCH_WORKER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_WORKER_NODE_OPTIONS } : {}),
  };
  // BENCH_WORKER_BUILT=1 runs the worker as production does (`npm run build` first): no type stripping, no webpack at start.
  const workerEntry = process.env.BENCH_WORKER_BUILT ? ['dist/worker.js'] : ['worker.ts'];
  const { proc: worker } = await bench.child('worker', [...profile, ...workerEntry], workerEnv, {
    nice: WORKER_NICE,
    logFile: logFile('worker'),
  });
  const cacheBound = workerTuningFromEnv(parseEnv({ ...process.env, ...workerEnv })).maxCachedWorkflows;
  const workerTasks = () => workerTaskMetricsOf(`http://127.0.0.1:${temporalMetricsPort}/metrics`);
  const workerHeap = () => heapOf(`http://127.0.0.1:${workerMetricsPort}/metrics`);
  await waitReady(`${apiUrl}/health/ready`);
  const noopPort = await pickFreePort();
  await bench.child('noop', ['bench/noop-server.ts'], { PORT: String(noopPort) }, { announces: true });

  const pool = new Pool(apiUrl, { connections: 128 });
  const noopPool = new Pool(`http://127.0.0.1:${noopPort}`, { connections: 128 });
  bench.onStop(
    () => pool.close(),
    () => noopPool.close(),
  );
  const auth = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };
  const post = async (path: string, body: string, headers: Record<string, string>, target = pool) => {
    const res = await target.request({ method: 'POST', path, body, headers });
    const text = await res.body.text();
    return { status: res.statusCode, text };
  };
  type Created = { id: string; sessionUrl: string | null; status: string };
  /** With `withSession`, returns once the session exists (Prefer: wait, then polling when the machine is slower than the wait). */
  const create = async (provider: string, withSession = false): Promise<Created> => {
    const res = await post('/v1/verifications', JSON.stringify({ provider }), withSession ? { ...auth, prefer: 'wait=20' } : auth);
    let created = JSON.parse(res.text) as Created;
    const deadline = Date.now() + 120_000;
    while (withSession && created.sessionUrl === null) {
      if (Date.now() > deadline) throw new Error(`verification ${created.id} has no session after 2 minutes`);
      await sleep(250);
      const got = await pool.request({ method: 'GET', path: `/v1/verifications/${created.id}`, headers: auth });
      created = JSON.parse(await got.body.text()) as Created;
    }
    return created;
  };

  /**
   * Waits until every stored webhook has the workflow's verdict and every created verification its
   * session: a phase that measures the worker's cost or speed must not count the backlog an earlier
   * phase left (the load phases store webhooks, and the create phase verifications, faster than
   * the worker gets through them).
   */
  const drainBacklog = async (before: string, eachTick?: () => Promise<void>) => {
    const waiting = async () => ({
      webhooks: await database.db.$count(webhookEvents, inArray(webhookEvents.outcome, ['received', 'delivered'])),
      sessions: await database.db.$count(verifications, and(isNull(verifications.providerRef), eq(verifications.status, 'created'))),
    });
    const began = performance.now();
    const deadline = Date.now() + 5 * 60_000;
    let left = await waiting();
    while (left.webhooks + left.sessions > 0 && Date.now() < deadline) {
      await Promise.all([sleep(500), eachTick?.()]);
      left = await waiting();
    }
    const seconds = round2((performance.now() - began) / 1000);
    const drained = left.webhooks + left.sessions === 0;
    log(
      `before ${before}: ${drained ? 'backlog applied' : `${left.webhooks} webhooks unapplied, ${left.sessions} verifications without a session`} after ${seconds} s`,
    );
    return { ...left, seconds };
  };

  /**
   * Scale: many open verifications waiting on timers, then a burst of webhooks to the newest of
   * them. The worker's RSS is sampled as sessions arrive: with the sticky cache bounded
   * (WORKER_MAX_CACHED_WORKFLOWS) it levels off once the cache is full; the burst then pays for
   * the bound in replays of evicted workflows (cache misses, from the SDK's own metrics).
   */
  const scalePhase = async () => {
    await drainBacklog('scale');
    log(`scale: ${SCALE} open verifications, worker cache bound ${cacheBound}`);
    const sizeBefore = Number((await admin`select pg_database_size(${dbName}) as size`)[0]!.size);
    const countBefore = await database.db.$count(verifications, isNotNull(verifications.providerRef));
    const workerRssBefore = await rssMb(worker.pid!);
    const cacheBefore = await workerTasks();
    const scaleStart = performance.now();
    let nextCreate = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (nextCreate++ < SCALE) await post('/v1/verifications', JSON.stringify({ provider: 'persona' }), auth);
      }),
    );
    const createSeconds = (performance.now() - scaleStart) / 1000;
    const sessionsDeadline = Date.now() + SESSIONS_MINUTES * 60_000;
    let withSession = 0;
    const rssSamples: { withSession: number; workerRssMb: number; workerHeapUsedMb: number; workflowThreadHeapUsedMb: number }[] = [];
    while (Date.now() < sessionsDeadline) {
      withSession = (await database.db.$count(verifications, isNotNull(verifications.providerRef))) - countBefore;
      const heap = await workerHeap();
      rssSamples.push({
        withSession,
        workerRssMb: await rssMb(worker.pid!),
        workerHeapUsedMb: heap.usedMb,
        workflowThreadHeapUsedMb: heap.workflowThreadUsedMb,
      });
      bench.measured.scaleProgress = { open: SCALE, withSession, seconds: round2((performance.now() - scaleStart) / 1000), rssSamples };
      if (withSession >= SCALE) break;
      await sleep(1000);
    }
    const sessionsSeconds = (performance.now() - scaleStart) / 1000;
    await sleep(3000);
    const workerRss = await rssMb(worker.pid!);
    const apiRss = await rssMb(api.pid!);
    const cacheAfterSessions = await workerTasks();
    const workerHeapAfterSessions = await workerHeap();
    const sizeAfter = Number((await admin`select pg_database_size(${dbName}) as size`)[0]!.size);
    const bytesPerVerification = Math.round((sizeAfter - sizeBefore) / SCALE);

    log(`burst of ${BURST} webhooks`);
    const burstRows = (await database.db.execute(
      sql`select id, provider_ref from verifications where provider = 'persona' and provider_ref is not null order by created_at desc limit ${BURST}`,
    )) as unknown;
    const targets = (Array.isArray(burstRows) ? burstRows : (burstRows as { rows: unknown[] }).rows) as {
      id: string;
      provider_ref: string;
    }[];
    const burstIds: string[] = [];
    const burstStart = performance.now();
    await Promise.all(
      targets.map(async (v, i) => {
        const { body, eventId } = personaEventBody({
          name: 'inquiry.started',
          status: 'pending',
          createdAt: new Date(Date.now() - 1000 + i),
          inquiryId: v.provider_ref,
          referenceId: v.id,
        });
        burstIds.push(eventId);
        await post('/webhooks/persona', body, {
          'content-type': 'application/json',
          'persona-signature': signPersona(body, SECRETS.persona.webhookSecret),
        });
      }),
    );
    const acked = (performance.now() - burstStart) / 1000;
    let applied = 0;
    const burstDeadline = Date.now() + 5 * 60_000;
    while (Date.now() < burstDeadline) {
      applied = await database.db.$count(
        webhookEvents,
        and(isNotNull(webhookEvents.processedAt), inArray(webhookEvents.providerEventId, burstIds)),
      );
      if (applied >= targets.length) break;
      await sleep(250);
    }
    const burstSeconds = (performance.now() - burstStart) / 1000;
    const cacheAfterBurst = await workerTasks();
    return {
      open: SCALE,
      cacheBound,
      createSeconds: round2(createSeconds),
      allSessionsSeconds: round2(sessionsSeconds),
      withSession,
      workerRssBeforeMb: workerRssBefore,
      workerRssMb: workerRss,
      workerPeakRssMb: await rssMb(worker.pid!, 'VmHWM'),
      workerHeap: workerHeapAfterSessions,
      workflowTaskMs: meanTaskMs(cacheBefore, cacheAfterSessions),
      burstWorkflowTaskMs: meanTaskMs(cacheAfterSessions, cacheAfterBurst),
      workflowTaskFailures: cacheAfterBurst.taskFailures ?? 0,
      workerRssPerOpenKb: Math.round(((workerRss - workerRssBefore) * 1024) / SCALE),
      rssSamples,
      apiRssMb: apiRss,
      bytesPerVerification,
      stickyCache: { afterSessions: cacheAfterSessions, afterBurst: cacheAfterBurst },
      burst: {
        webhooks: targets.length,
        ackSeconds: round2(acked),
        allAppliedSeconds: round2(burstSeconds),
        applied,
        cacheMisses: (cacheAfterBurst.misses ?? 0) - (cacheAfterSessions.misses ?? 0),
      },
    };
  };

  const connection = await Connection.connect({ address: temporal.address });
  bench.onStop(() => connection.close());
  const client = new Client({ connection });
  const postCreate = () => post('/v1/verifications', JSON.stringify({ provider: 'persona' }), auth).then((r) => r.status === 202);

  /**
   * What a create waits for on this machine, apart from the work it sets going: the same closed
   * loop of CREATE_CONCURRENCY, first as raw `workflow.start` calls (Temporal alone, a queue no
   * worker polls: the contract answers a create only once its workflow exists), then our POST
   * with the worker stopped (SIGSTOP), so the workflow task, the session's activity and its
   * record that follow each create do not compete for the same cores; in production the worker
   * runs on its own. The verifications it leaves get their sessions once the worker goes on.
   */
  const createFloor = async () => {
    log(`create floor: raw workflow.start ×${CREATE_CONCURRENCY}`);
    const rawStart = await closedLoop(CREATE_CONCURRENCY, PHASE_MS, () =>
      client.workflow.start('benchSink', { workflowId: `bench-start-${randomUUID()}`, taskQueue: 'bench-nobody-polls' }).then(() => true),
    );
    log(`create floor: POST /v1/verifications ×${CREATE_CONCURRENCY}, worker stopped`);
    worker.kill('SIGSTOP');
    let workerStopped: LoadResult;
    try {
      workerStopped = await closedLoop(CREATE_CONCURRENCY, PHASE_MS, postCreate);
    } finally {
      worker.kill('SIGCONT');
    }
    await drainBacklog('the next phase');
    return { rawStart, workerStopped };
  };

  if (ONLY === 'create') {
    const floor = await createFloor();
    log(`POST /v1/verifications ×${CREATE_CONCURRENCY}`);
    const createLoad = await closedLoop(CREATE_CONCURRENCY, PHASE_MS, postCreate);
    process.stdout.write([...LOAD_TABLE_HEADER, ...createRows(createLoad, floor)].join('\n') + '\n');
    await drainBacklog('the end');
    return;
  }

  if (ONLY === 'scale') {
    const scale = await scalePhase();
    process.stdout.write(
      `${renderScale(scale)}\nJSON: ${await save(startedAt, { date: startedAt.toISOString(), settings: { scale: SCALE, burst: BURST }, scale })}\n`,
    );
    return;
  }

  /** The cost profile (bench/cost-profile.ts): COST_WEBHOOKS verifications created up to their sessions, then one webhook to each. */
  const measureCostProfile = async () => {
    await drainBacklog('cost profile');
    log(`cost profile: ${COST_WEBHOOKS} verifications created, then one webhook to each`);
    const costSources: CostSources = {
      processes: {
        API: async () => [api.pid!],
        worker: async () => [worker.pid!],
        Temporal: async () => [temporal.child.pid!],
        Postgres: () => pidsNamed('postgres'),
        sandbox: async () => [sandboxProc.pid!],
      },
      pgStatsUrl: pgProxy.ready.statsUrl,
      sandboxStatsUrl: sandbox.statsUrl,
      temporal: new Client({ connection: await Connection.connect({ address: temporal.address }) }),
      workflowIds: [],
    };
    bench.onStop(() => costSources.temporal.connection.close());
    const createBefore = await snapshotCost(costSources);
    const costTargets: { id: string; sessionUrl: string | null }[] = [];
    while (costTargets.length < COST_WEBHOOKS)
      costTargets.push(...(await Promise.all(Array.from({ length: 20 }, () => create('persona', true)))));
    costSources.workflowIds = costTargets.map((v) => verificationWorkflowId(v.id));
    // Activities that follow the session (records) finish shortly after it is visible.
    await sleep(1000);
    const perCreate = costPer('created verification', createBefore, await snapshotCost(costSources), costTargets.length);
    await sleep(2000);
    const costBefore = await snapshotCost(costSources);
    const costEventIds: string[] = [];
    await openLoop(50, (COST_WEBHOOKS / 50) * 1000, (i) => {
      const v = costTargets[i % costTargets.length]!;
      const { body, eventId } = personaEventBody({
        name: 'inquiry.started',
        status: 'pending',
        createdAt: new Date(),
        inquiryId: new URL(v.sessionUrl!).searchParams.get('inquiry-id')!,
        referenceId: v.id,
      });
      costEventIds.push(eventId);
      return post('/webhooks/persona', body, {
        'content-type': 'application/json',
        'persona-signature': signPersona(body, SECRETS.persona.webhookSecret),
      }).then((r) => r.status === 200);
    });
    const costDeadline = Date.now() + 2 * 60_000;
    while (
      Date.now() < costDeadline &&
      (await database.db.$count(
        webhookEvents,
        and(isNotNull(webhookEvents.processedAt), inArray(webhookEvents.providerEventId, costEventIds)),
      )) < costEventIds.length
    )
      await sleep(100);
    // Activities that follow an applied event (records, notifications) finish shortly after.
    await sleep(1000);
    return [costPer('applied webhook', costBefore, await snapshotCost(costSources), costEventIds.length), perCreate];
  };
  if (ONLY === 'cost') {
    process.stdout.write(renderCostProfile(await measureCostProfile()) + '\n');
    return;
  }

  // Targets for webhooks: verifications with live sessions.
  log('creating webhook targets');
  const personaTargets = await Promise.all(Array.from({ length: 20 }, () => create('persona', true)));
  const stripeTargets = await Promise.all(Array.from({ length: 20 }, () => create('stripe', true)));
  const stripeAccount = new Map<string, string>();
  for (const v of stripeTargets) {
    const acct = /\/stripe\/onboarding\/(acct_[^?/]+)/.exec(v.sessionUrl ?? '')?.[1];
    if (acct) stripeAccount.set(v.id, acct);
  }
  const personaInquiry = new Map(personaTargets.map((v) => [v.id, new URL(v.sessionUrl!).searchParams.get('inquiry-id')!]));
  let clock = Date.now() - 3_600_000;
  const personaWebhook = (i: number) => {
    const v = personaTargets[i % personaTargets.length]!;
    const { body } = personaEventBody({
      name: 'inquiry.started',
      status: 'pending',
      createdAt: new Date((clock += 1)),
      inquiryId: personaInquiry.get(v.id)!,
      referenceId: v.id,
    });
    return post('/webhooks/persona', body, {
      'content-type': 'application/json',
      'persona-signature': signPersona(body, SECRETS.persona.webhookSecret),
    }).then((r) => r.status === 200);
  };
  const stripeWebhook = (i: number) => {
    const v = stripeTargets[i % stripeTargets.length]!;
    const acct = stripeAccount.get(v.id)!;
    const payload = JSON.stringify({
      id: `evt_bench_${randomUUID().replaceAll('-', '')}`,
      object: 'event',
      type: 'account.updated',
      created: Math.floor((clock += 1000) / 1000),
      account: acct,
      data: {
        object: {
          id: acct,
          object: 'account',
          metadata: { verification_id: v.id },
          charges_enabled: false,
          payouts_enabled: false,
          details_submitted: true,
          requirements: { currently_due: [], past_due: [], pending_verification: ['individual.id_number'], disabled_reason: null },
        },
        previous_attributes: {},
      },
    });
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRETS.stripe.webhookSecret });
    return post('/webhooks/stripe', payload, { 'content-type': 'application/json', 'stripe-signature': signature }).then(
      (r) => r.status === 200,
    );
  };

  // 1. Intake at fixed offered rates (open loop).
  const intake: Record<'persona' | 'stripe', LoadResult[]> = { persona: [], stripe: [] };
  for (const [provider, send] of [
    ['persona', personaWebhook],
    ['stripe', stripeWebhook],
  ] as const) {
    // Not measured: the first requests of a path pay JIT compilation and connection set-up, which
    // is start-up cost, not the steady state the ack goals are about.
    log(`intake ${provider}: warming up at ${RATES[0]}/s for ${WARM_UP_MS} ms`);
    await openLoop(RATES[0]!, WARM_UP_MS, send);
    await sleep(1000);
    for (const rate of RATES) {
      log(`intake ${provider} at ${rate}/s for ${PHASE_MS} ms`);
      intake[provider].push(await openLoop(rate, PHASE_MS, send));
      bench.measured.intake = intake;
      await sleep(1000);
    }
  }

  if (ONLY === 'intake') {
    process.stdout.write([...LOAD_TABLE_HEADER, ...ackRows(intake)].join('\n') + '\n');
    // The rates above the worker's pace leave a backlog; what draining it costs the worker's memory
    // is what a full run carries into its scale phase (the 512 MB goal is a peak).
    const heapsWhileDraining: WorkerHeap[] = [];
    const drained = await drainBacklog('the end', async () => void heapsWhileDraining.push(await workerHeap()));
    process.stdout.write(`${renderDrain({ ...drained, peakRssMb: await rssMb(worker.pid!, 'VmHWM'), heaps: heapsWhileDraining })}\n`);
    return;
  }

  // The limits, same concurrency, closed loop: our intake, a raw signalWithStart loop, a no-op route.
  log(`limits at concurrency ${CONCURRENCY}`);
  const intakeMax = await closedLoop(CONCURRENCY, PHASE_MS, personaWebhook);
  const signalWithStart = await closedLoop(CONCURRENCY, PHASE_MS, (i) =>
    client.workflow
      .signalWithStart('benchSink', {
        workflowId: `bench-sink-${i % 200}`,
        taskQueue: 'bench-nobody-polls',
        signal: 'providerEvent',
        signalArgs: [{ i }],
      })
      .then(() => true),
  );
  const noopBody = personaEventBody({
    name: 'inquiry.started',
    status: 'pending',
    createdAt: new Date(),
    inquiryId: 'inq_x',
    referenceId: randomUUID(),
  }).body;
  const noop = await closedLoop(CONCURRENCY, PHASE_MS, () =>
    post('/noop', noopBody, { 'content-type': 'application/json' }, noopPool).then((r) => r.status === 200),
  );

  // 2. Create latency, and webhook -> status visible through GET.
  log('create latency');
  const createLoad = await closedLoop(CREATE_CONCURRENCY, PHASE_MS, postCreate);
  // The creates above leave hundreds of verifications waiting for their sessions; one at a time
  // below, each create and webhook is the wait a client sees on an otherwise idle stack.
  await drainBacklog('the create floor');
  const createFloorLoad = await createFloor();
  log('webhook -> visible');
  const visible: number[] = [];
  const sessionOpened: number[] = [];
  for (let i = 0; i < 30; i++) {
    const createdAt = performance.now();
    const v = await create('persona', true);
    sessionOpened.push(performance.now() - createdAt);
    const inquiryId = new URL(v.sessionUrl!).searchParams.get('inquiry-id')!;
    const began = performance.now();
    await fetch(`${sandbox.url}/persona/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ 'inquiry-id': inquiryId, decision: 'approved' }),
    }).then((r) => r.text());
    for (let polls = 0; polls < 2000; polls++) {
      const res = await pool.request({ method: 'GET', path: `/v1/verifications/${v.id}`, headers: auth });
      const body = JSON.parse(await res.body.text()) as { status: string };
      if (body.status === 'approved') break;
      await sleep(5);
    }
    visible.push(performance.now() - began);
  }

  Object.assign(bench.measured, {
    limits: { intakeMax, signalWithStart, noop },
    create: createLoad,
    createFloor: createFloorLoad,
    sessionOpened: summarize(sessionOpened),
    webhookToVisible: summarize(visible),
  });
  const costProfile = await measureCostProfile();
  bench.measured.costProfile = costProfile;

  // 4 (before the scale run fills the queues). Template sync of 100 templates; multi-step end to end.
  log('template sync (100) and multi-step end to end');
  await fetch(`${sandbox.url}/idmeta/admin/templates`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ count: 100 }),
  }).then((r) => r.text());
  const syncs: number[] = [];
  let synced = 0;
  for (let i = 0; i < 5; i++) {
    const res = await post('/v1/templates/sync', '{}', { ...auth, authorization: `Bearer ${BENCH_OPERATOR_TOKEN}` });
    const body = JSON.parse(res.text) as { synced: number; durationMs: number };
    synced = body.synced;
    syncs.push(body.durationMs);
  }
  const multiStep: number[] = [];
  for (let i = 0; i < 20; i++) {
    const began = performance.now();
    const v = JSON.parse(
      (await post('/v1/verifications', JSON.stringify({ provider: 'idmeta', templateId: THREE_STEP_TEMPLATE }), auth)).text,
    ) as { id: string };
    for (let polls = 0; polls < 6000; polls++) {
      const res = await pool.request({ method: 'GET', path: `/v1/verifications/${v.id}`, headers: auth });
      const body = JSON.parse(await res.body.text()) as { status: string };
      if (body.status === 'approved' || body.status === 'declined' || body.status === 'needs_review') break;
      await sleep(10);
    }
    multiStep.push(performance.now() - began);
  }

  bench.measured.templates = { synced, syncMs: summarize(syncs), multiStepEndToEnd: summarize(multiStep) };
  const scale = await scalePhase();

  const results = {
    date: startedAt.toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
    },
    settings: { rates: RATES, phaseMs: PHASE_MS, concurrency: CONCURRENCY, scale: SCALE, burst: BURST },
    intake,
    limits: {
      intakeClosedLoop: intakeMax,
      signalWithStart,
      noopFastify: noop,
      intakeVsSignalWithStart: round2(intakeMax.achievedPerSecond / signalWithStart.achievedPerSecond),
      intakeVsNoop: round2(intakeMax.achievedPerSecond / noop.achievedPerSecond),
    },
    create: createLoad,
    createFloor: createFloorLoad,
    sessionOpened: summarize(sessionOpened),
    webhookToVisible: summarize(visible),
    templates: { synced, syncMs: summarize(syncs), multiStepEndToEnd: summarize(multiStep) },
    signatureCost,
    replayCost,
    creationCost,
    cachedWorkflowHeap,
    costProfile,
    scale,
  };
  process.stdout.write(renderTable(results) + `\nJSON: ${await save(startedAt, results)}\n`);
}

/** A run's files in bench/results/ are named after when it started. */
function runStamp(startedAt: Date): string {
  return startedAt.toISOString().replaceAll(':', '-').slice(0, 19);
}

/** Writes the run's JSON to bench/results/ and returns its path. */
async function save(startedAt: Date, results: object): Promise<string> {
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  const file = new URL(`./results/${runStamp(startedAt)}.json`, import.meta.url);
  await writeFile(file, JSON.stringify(results, null, 2));
  return file.pathname;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function row(name: string, r: LoadResult | LatencySummary, goal = ''): string {
  const load = 'achievedPerSecond' in r ? `${r.offered ?? '–'} | ${r.achievedPerSecond} | ${r.errors}` : '– | – | –';
  return `| ${name} | ${load} | ${r.p50} | ${r.p95} | ${r.p99} | ${goal} |`;
}

function renderScale(s: any): string {
  return (
    `Scale: ${s.open} open verifications created in ${s.createSeconds} s, all sessions in ${s.allSessionsSeconds} s (${s.withSession} with a session); ` +
    `worker RSS ${s.workerRssMb} MB (${s.workerRssBeforeMb} MB before, peak ${s.workerPeakRssMb} MB, ${s.workerRssPerOpenKb} KB per open verification) ` +
    `with the workflow cache bounded at ${s.cacheBound} (${s.stickyCache.afterSessions.size ?? '?'} cached; heap in use, garbage included: main thread ${s.workerHeap.usedMb} MB, workflow thread ${s.workerHeap.workflowThreadUsedMb} MB of its ${s.workerHeap.workflowThreadLimitMb} MB limit), workflow tasks ${s.workflowTaskMs} ms mean (${s.burstWorkflowTaskMs} ms in the burst); API RSS ${s.apiRssMb} MB; ` +
    `database ${s.bytesPerVerification} bytes per verification; burst of ${s.burst.webhooks} webhooks acknowledged in ${s.burst.ackSeconds} s, ` +
    `all applied in ${s.burst.allAppliedSeconds} s (${s.burst.applied} applied, ${s.burst.cacheMisses} cache misses); ` +
    `${s.workflowTaskFailures} workflow tasks failed since the worker started.`
  );
}

function renderDrain(d: { webhooks: number; sessions: number; seconds: number; peakRssMb: number; heaps: readonly WorkerHeap[] }): string {
  const most = (pick: (heap: WorkerHeap) => number) => Math.max(0, ...d.heaps.map(pick));
  return (
    `Backlog the phases left: ${d.webhooks + d.sessions === 0 ? 'applied' : `${d.webhooks} webhooks unapplied, ${d.sessions} verifications without a session`} in ${d.seconds} s; worker peak RSS ${d.peakRssMb} MB; ` +
    `most heap while it drained (garbage included): main thread ${most((h) => h.usedMb)} MB in use of ${most((h) => h.totalMb)} MB taken, ` +
    `workflow thread ${most((h) => h.workflowThreadUsedMb)} MB of its ${most((h) => h.workflowThreadLimitMb)} MB limit.`
  );
}

/** The head of the load table `row` fills: the full run's, and each BENCH_ONLY phase's part of it. */
const LOAD_TABLE_HEADER = [
  '| measure | offered/s | achieved/s | errors | p50 ms | p95 ms | p99 ms | goal |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
];

/** The goal column of the Persona ack rows, by offered rate (judged in the goals table). */
const ACK_GOALS: Record<number, string> = { 50: 'p99 < 50 ms', 100: 'p99 < 100 ms', 200: 'sustained, no errors' };

function ackRows(intake: { persona: LoadResult[]; stripe: LoadResult[] }): string[] {
  return [
    ...intake.persona.map((x) => row('Persona webhook ack', x, ACK_GOALS[x.offered ?? 0] ?? '')),
    ...intake.stripe.map((x) => row('Stripe webhook ack', x)),
  ];
}

/** The create rows with their floor (createFloor in main): raw workflow.start, and ours with the worker stopped. */
function createRows(create: LoadResult, floor: { rawStart: LoadResult; workerStopped: LoadResult }): string[] {
  return [
    row(`POST /v1/verifications ×${CREATE_CONCURRENCY}`, create, 'p99 < 50 ms'),
    row(`POST /v1/verifications ×${CREATE_CONCURRENCY}, worker stopped`, floor.workerStopped),
    row(`raw workflow.start ×${CREATE_CONCURRENCY}`, floor.rawStart),
  ];
}

function renderTable(r: any): string {
  const lines = [
    `## veriflow bench — ${r.date.slice(0, 10)}, ${r.machine.cpus} cores (${r.machine.cpuModel}), ${r.machine.memoryGiB} GiB, Node ${r.machine.node}`,
    '',
    ...LOAD_TABLE_HEADER,
    ...ackRows(r.intake),
    row(`intake, closed loop ×${r.settings.concurrency}`, r.limits.intakeClosedLoop),
    row(`raw signalWithStart ×${r.settings.concurrency}`, r.limits.signalWithStart),
    row(`no-op fastify ×${r.settings.concurrency}`, r.limits.noopFastify),
    ...createRows(r.create, r.createFloor),
    row('POST /v1/verifications, Prefer: wait, ×1 (to its session)', r.sessionOpened),
    row('webhook → visible in GET', r.webhookToVisible, 'p50 < 300 ms'),
    row(`template sync (${r.templates.synced} templates)`, r.templates.syncMs, '< 10 s'),
    row('three-step template, create → decided', r.templates.multiStepEndToEnd, 'p99 < 30 s'),
    '',
    `Intake rate / raw signalWithStart rate: **${r.limits.intakeVsSignalWithStart}** (goal ≥ 0.5); intake / no-op fastify: **${r.limits.intakeVsNoop}**.`,
    '',
    renderScale(r.scale),
    '',
    renderGoals(judgeGoals(r), r.machine.cpus),
    '',
    renderCostProfile(r.costProfile),
    '',
    renderSignatureCost(r.signatureCost),
    '',
    renderReplayCost(r.replayCost),
    '',
    renderCreationCost(r.creationCost),
    '',
    renderCachedWorkflowHeap(r.cachedWorkflowHeap),
  ];
  return lines.join('\n');
}

void bench.main(main);
