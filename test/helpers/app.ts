// The HTTP app alone, for contract tests that never reach Temporal (auth, validation, limits,
// the codec): a fresh database and a lazy Temporal connection that is never dialled. Seconds
// instead of the whole stack; whatever needs a workflow belongs on startStack (stack.ts).
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import type { Test } from 'tap';
import { ensureDevTenant } from '../../api/services/tenants.ts';
import { parseEnv } from '../../config/env.ts';
import type { ProviderRegistry } from '../../providers/index.ts';
import { composeApi } from '../../wiring/api-root.ts';
import { providersFromEnv } from '../../wiring/providers.ts';
import { startSandbox } from '../../sandbox/server.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { SANDBOX_SECRETS, TEST_API_KEY, testAppEnv } from './test-env.ts';

export async function buildTestApp(
  t: Pick<Test, 'teardown'>,
  db: TestDatabase,
  vars: Record<string, string>,
  logger: Logger = pino({ level: 'silent' }),
  providers: (configured: ProviderRegistry) => ProviderRegistry = (configured) => configured,
): Promise<FastifyInstance> {
  const env = parseEnv({ NODE_ENV: 'test', DATABASE_URL: db.url, ...vars });
  const connection = Connection.lazy({ address: '127.0.0.1:1' });
  t.teardown(() => connection.close());
  // The production API's wiring, not listening, with no sweeper (it would dial Temporal).
  const api = await composeApi(env, {
    logger,
    database: db.handle,
    temporal: new Client({ connection }),
    providers: providers(providersFromEnv(env)),
    sweeper: false,
    listen: false,
  });
  t.teardown(() => api.close());
  return api.app;
}

export interface TestAppOptions {
  /** Settings on top of the test defaults (test-env.ts), e.g. small rate limits. */
  env?: Record<string, string>;
  /** Wraps the providers the app uses (e.g. to count calls). */
  providers?: (configured: ProviderRegistry) => ProviderRegistry;
}

export interface TestApp {
  app: FastifyInstance;
  database: TestDatabase;
  /** The tenant of TEST_API_KEY. */
  tenantId: string;
  request: AuthorizedRequest;
}

/**
 * The app as startStack builds it (same settings, same tenant and key), on a fresh database, with
 * every provider API answered by an in-process sandbox, and no Temporal.
 */
export async function startTestApp(t: Pick<Test, 'teardown'>, options: TestAppOptions = {}): Promise<TestApp> {
  const [database, sandbox] = await Promise.all([
    createTestDatabase(t),
    // Nothing here gets far enough for a provider to send a webhook.
    startSandbox({ port: 0, webhookTargets: {}, secrets: SANDBOX_SECRETS }),
  ]);
  t.teardown(() => sandbox.close());
  const tenantId = await ensureDevTenant(database.db, TEST_API_KEY);
  const app = await buildTestApp(t, database, { ...testAppEnv(sandbox.url), ...options.env }, undefined, options.providers);
  // Booted now, as listen() boots startStack's: else the first inject pays for it (seconds on a
  // loaded machine), inside whatever window the test is timing.
  await app.ready();
  return { app, database, tenantId, request: authorizedRequest(app) };
}

export type AuthorizedRequest = (
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<{ status: number; body: any; headers: Record<string, unknown> }>;

/** Requests to the in-process app with TEST_API_KEY (a test's headers may override it); the body parsed. */
export function authorizedRequest(app: FastifyInstance): AuthorizedRequest {
  return async (method, url, body, headers = {}) => {
    const response = await app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${TEST_API_KEY}`, ...headers },
      ...(body === undefined ? {} : { payload: body as object }),
    });
    return { status: response.statusCode, body: response.body ? response.json() : null, headers: response.headers };
  };
}
