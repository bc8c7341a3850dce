// The whole veriflow stack for an integration test: a real Temporal dev server, a fresh
// Postgres database, the provider sandbox, the worker (real workflow bundle) and the HTTP API
// listening on loopback so the sandbox can deliver webhooks to it.
import { bundleWorkflowCode, DefaultLogger, NativeConnection, type Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import type { Test } from 'tap';
import { buildApp } from '../../api/app.js';
import { ensureDevTenant } from '../../api/services/tenants.js';
import { parseEnv, timersFromEnv, type Env } from '../../config/env.js';
import type { DatabaseHandle } from '../../db/client.js';
import { providersFromEnv } from '../../runtime/providers.js';
import { startSandbox } from '../../sandbox/server.js';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.js';
import { createVerificationWorker, installTemporalRuntime, workflowsPath } from '../../worker.js';
import { createTestDatabase } from './database.js';
import { startTestTemporal, type TestTemporal } from './temporal.js';

export const TEST_API_KEY = 'vf_test_key_0001';
export const PERSONA_SECRETS = { apiKey: 'persona_test_api_key', webhookSecret: 'wbhsec_persona_test_secret' };

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Bundling takes seconds: once per test file (process). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: new DefaultLogger('ERROR') });
  return bundle;
}

export interface StackOptions {
  /** Extra environment (timer durations, …) on top of the test defaults. */
  env?: Record<string, string>;
  /** Start without a worker (tests that start their own, or none). */
  worker?: boolean;
}

export interface Stack {
  env: Env;
  app: FastifyInstance;
  apiUrl: string;
  sandboxUrl: string;
  temporal: TestTemporal;
  database: DatabaseHandle;
  tenantId: string;
  worker: Worker | null;
  /** Starts a worker on the stack's task queue; resolves once it runs. */
  startWorker(): Promise<Worker>;
  /** Authorized request helper against the in-process app. */
  request(method: 'GET' | 'POST', url: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
}

const quiet = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export async function startStack(t: Test, options: StackOptions = {}): Promise<Stack> {
  const [temporal, testDb, apiPort] = await Promise.all([startTestTemporal(t), createTestDatabase(t), pickFreePort()]);
  const sandbox = await startSandbox({
    port: 0,
    webhookTargets: { persona: `http://127.0.0.1:${apiPort}/webhooks/persona` },
    secrets: { persona: PERSONA_SECRETS },
    webhookRetryDelaysMs: [0, 200, 1000],
  });
  t.teardown(() => sandbox.close());

  const env = parseEnv({
    NODE_ENV: 'test',
    PORT: String(apiPort),
    DATABASE_URL: testDb.url,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: `verifications-${apiPort}`,
    PERSONA_API_URL: sandbox.url,
    PERSONA_API_KEY: PERSONA_SECRETS.apiKey,
    PERSONA_WEBHOOK_SECRET: PERSONA_SECRETS.webhookSecret,
    PERSONA_TEMPLATE_ID: 'itmpl_test',
    ...options.env,
  });
  const providers = providersFromEnv(env);
  const database = testDb.handle;
  const tenantId = await ensureDevTenant(database.db, TEST_API_KEY);

  installTemporalRuntime(quiet);
  const workers: Worker[] = [];
  const startWorker = async () => {
    const connection = await NativeConnection.connect({ address: temporal.address });
    const worker = await createVerificationWorker({
      connection,
      namespace: 'default',
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      workflowBundle: await workflowBundle(),
      db: database.db,
      providers,
      logger: quiet,
    });
    const running = worker.run().finally(() => connection.close());
    t.teardown(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    });
    workers.push(worker);
    return worker;
  };

  const app = await buildApp({
    env,
    database,
    temporal: temporal.client,
    providers,
    timers: timersFromEnv(env),
    logger: quiet,
    defaultTemplates: { persona: env.PERSONA_TEMPLATE_ID ?? 'itmpl_test' },
  });
  await app.listen({ host: '127.0.0.1', port: apiPort });
  t.teardown(() => app.close());

  const worker = options.worker === false ? null : await startWorker();
  return {
    env,
    app,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    sandboxUrl: sandbox.url,
    temporal,
    database,
    tenantId,
    worker,
    startWorker,
    async request(method, url, body, headers = {}) {
      const response = await app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${TEST_API_KEY}`, ...headers },
        ...(body === undefined ? {} : { payload: body as object }),
      });
      return { status: response.statusCode, body: response.body ? response.json() : null, headers: response.headers };
    },
  };
}

/** Polls `read` until `done` holds, at most `timeoutMs`; returns the last value. */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, { timeoutMs = 20_000, intervalMs = 100 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, intervalMs));
    value = await read();
  }
  return value;
}
