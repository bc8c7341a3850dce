// The HTTP app alone, for contract tests that never reach Temporal (auth, validation, the
// codec): a fresh database and a lazy Temporal connection that is never dialled.
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import type { Test } from 'tap';
import { buildApp } from '../../api/app.js';
import { parseEnv, timersFromEnv } from '../../config/env.js';
import { providersFromEnv } from '../../runtime/providers.js';
import type { TestDatabase } from './database.js';

export async function buildTestApp(
  t: Pick<Test, 'teardown'>,
  db: TestDatabase,
  vars: Record<string, string>,
  logger: Logger = pino({ level: 'silent' }),
): Promise<FastifyInstance> {
  const env = parseEnv({ NODE_ENV: 'test', DATABASE_URL: db.url, ...vars });
  const connection = Connection.lazy({ address: '127.0.0.1:1' });
  t.teardown(() => connection.close());
  const app = await buildApp({
    env,
    database: db.handle,
    temporal: new Client({ connection }),
    providers: providersFromEnv(env),
    timers: timersFromEnv(env),
    logger,
    defaultTemplates: {},
  });
  t.teardown(() => app.close());
  return app;
}
