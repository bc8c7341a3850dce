import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { MigrationConfig } from 'drizzle-orm/migrator';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import type { Sql } from 'postgres';
import type { Database } from './client.ts';
import type * as schema from './schema/index.ts';

// Relative to this module, not the cwd: dev, tests, scripts and containers all start elsewhere.
const migrationConfig: MigrationConfig = {
  migrationsFolder: fileURLToPath(new URL('./migrations', import.meta.url)),
};

/** Hashed into the advisory lock key; a name rather than a magic number. */
const MIGRATION_LOCK_NAME = 'veriflow.migrate';

type DriverDatabase = (PostgresJsDatabase<typeof schema> & { $client: Sql }) | (PgliteDatabase<typeof schema> & { $client: PGlite });

/** Applies pending migrations from db/migrations. Idempotent; safe to run from several processes at once. */
export async function migrateDatabase(db: Database): Promise<void> {
  // `Database` hides the driver on purpose; createDatabase built it with one of these two.
  const driverDb = db as DriverDatabase;
  if (driverDb.$client instanceof PGlite) {
    // One process owns a PGlite directory, so there is nobody to race with.
    await migratePglite(driverDb as PgliteDatabase<typeof schema>, migrationConfig);
    return;
  }
  await withMigrationLock(driverDb.$client, () => migratePostgres(driverDb as PostgresJsDatabase<typeof schema>, migrationConfig));
}

// Two API/worker replicas starting together would otherwise both create drizzle's bookkeeping
// schema and apply the same migration. The advisory lock is session-scoped, so it is taken and
// released on one reserved connection while the migration runs on the pool.
async function withMigrationLock(client: Sql, run: () => Promise<void>): Promise<void> {
  const connection = await client.reserve();
  try {
    await connection`select pg_advisory_lock(hashtext(${MIGRATION_LOCK_NAME}))`;
    try {
      await run();
    } finally {
      await connection`select pg_advisory_unlock(hashtext(${MIGRATION_LOCK_NAME}))`;
    }
  } finally {
    connection.release();
  }
}
