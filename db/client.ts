import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { acquireEmbeddedLock, readEmbeddedLock } from './embedded-lock.ts';
import * as schema from './schema/index.ts';

/** One type for both drivers, so no caller (nor a transaction callback) knows which one runs. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

export type DatabaseKind = 'postgres' | 'pglite';

/**
 * Rows of a raw SQL query. `db.execute` is typed `unknown` on the shared type because the drivers
 * disagree on its shape (postgres.js: an array of rows; PGlite: `{ rows }`).
 */
export async function selectRows<Row>(db: Database, query: SQL): Promise<Row[]> {
  const result = (await db.execute(query)) as Row[] | { rows: Row[] };
  return Array.isArray(result) ? [...result] : result.rows;
}

export interface DatabaseHandle {
  db: Database;
  kind: DatabaseKind;
  /**
   * LISTEN on a channel (payloads sent with `pg_notify`). Resolves once listening, to a function
   * that stops listening.
   */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A postgres:// URL; unset means embedded PGlite. */
  url: string | null | undefined;
  /** PGlite's data directory when `url` is unset. */
  dataDir?: string;
}

export const DEFAULT_PGLITE_DIR = '.data/pglite';

/**
 * Without a URL: the embedded database, through `npm run dev`'s wire-protocol server when it runs
 * (db/embedded-server.ts), else opened in this process under the same lock so the two never meet.
 */
export async function createDatabase({ url, dataDir = DEFAULT_PGLITE_DIR }: DatabaseOptions): Promise<DatabaseHandle> {
  if (url) return connectPostgres(url);
  const holder = await readEmbeddedLock(dataDir);
  if (holder?.url) return connectPostgres(holder.url);
  return openPglite(dataDir);
}

/**
 * Seconds before reconnecting after `failures` failed attempts. postgres.js's default grows to 20 s
 * and is shared by the whole pool until a connection succeeds, so a short outage left every query
 * waiting that long first: webhooks looked slow instead of refused, and a database that was back
 * stayed unused for seconds. Capped at one second (jittered); the pool's size bounds the attempts.
 */
export function reconnectBackoffSeconds(failures: number): number {
  return (0.5 + Math.random() / 2) * Math.min(3 ** failures / 100, 1);
}

function connectPostgres(url: string): DatabaseHandle {
  // Notices are chatter such as "relation already exists, skipping" from idempotent DDL.
  const options = { onnotice: () => {}, backoff: reconnectBackoffSeconds };
  const client = postgres(url, { ...options, max: 10 });
  return {
    db: drizzlePostgres({ client, schema, casing: 'snake_case' }),
    kind: 'postgres',
    async listen(channel, onMessage) {
      // A client of its own per LISTEN: postgres.js keeps a failed LISTEN's rejection cached on
      // the client it was made on (until that connection closes, which a refused one never does
      // again), so every retry on the shared client would fail until the process restarts.
      const listener = postgres(url, { ...options, max: 1 });
      try {
        const { unlisten } = await listener.listen(channel, onMessage);
        return async () => {
          await unlisten();
          await listener.end({ timeout: 5 });
        };
      } catch (err) {
        await listener.end({ timeout: 0 });
        throw err;
      }
    },
    close: () => client.end({ timeout: 5 }),
  };
}

// PGlite runs Postgres in this process; the lock keeps `npm run dev` from opening it meanwhile.
async function openPglite(dataDir: string): Promise<DatabaseHandle> {
  await mkdir(dataDir, { recursive: true });
  const release = await acquireEmbeddedLock(dataDir);
  const client = await PGlite.create(dataDir).catch(async (error: unknown) => {
    await release();
    throw error;
  });
  return {
    db: drizzlePglite({ client, schema, casing: 'snake_case' }),
    kind: 'pglite',
    async listen(channel, onMessage) {
      const unlisten = await client.listen(channel, onMessage);
      return () => unlisten();
    },
    close: () => client.close().finally(release),
  };
}
