// The OpenAPI document exactly as GET /openapi.json serves it, from the app itself but without
// its services: the routes and schemas are all the document needs, so the database and
// Temporal connections are lazy ones that are never dialled. Used by `npm run client:generate`
// and by the test that checks the checked-in client types against it.
import { Client, Connection } from '@temporalio/client';
import { pino } from 'pino';
import { buildApp } from '../../api/app.ts';
import { parseEnv, timersFromEnv } from '../../config/env.ts';
import { createDatabase } from '../../db/client.ts';
import { providersFromEnv } from '../../wiring/providers.ts';

/** Nothing listens there; postgres.js connects on the first query, which never comes. */
const UNDIALLED_DATABASE_URL = 'postgres://127.0.0.1:1/openapi-document';

export async function buildOpenApiDocument(): Promise<Record<string, unknown>> {
  // A fixed environment, not process.env: the document must not depend on who generates it.
  const env = parseEnv({ NODE_ENV: 'test', DATABASE_URL: UNDIALLED_DATABASE_URL });
  const connection = Connection.lazy({ address: '127.0.0.1:1' });
  const database = await createDatabase({ url: env.DATABASE_URL });
  try {
    const app = await buildApp({
      env,
      database,
      temporal: new Client({ connection }),
      providers: providersFromEnv(env),
      timers: timersFromEnv(env),
      logger: pino({ level: 'silent' }),
      defaultTemplates: {},
    });
    try {
      const response = await app.inject({ method: 'GET', url: '/openapi.json' });
      if (response.statusCode !== 200) throw new Error(`GET /openapi.json answered ${response.statusCode}: ${response.body}`);
      return response.json();
    } finally {
      await app.close();
    }
  } finally {
    await connection.close();
    await database.close();
  }
}
