import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import type { Test } from 'tap';
import { createDatabase, type Database, type DatabaseHandle } from '../../db/client.js';
import { migrateDatabase } from '../../db/migrate.js';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  url: string;
  db: Database;
  /** The full handle (listen, kind) for code that takes one. */
  handle: DatabaseHandle;
  close(): Promise<void>;
}

/**
 * A fresh, migrated database per call: tap runs test files in parallel, and a shared database
 * would let one file's rows break another's assertions. Dropped at teardown.
 */
export async function createTestDatabase(t: Pick<Test, 'teardown'>): Promise<TestDatabase> {
  const name = `vf_test_${randomBytes(6).toString('hex')}`;
  await withAdminConnection((admin) => admin`create database ${admin(name)}`);
  const url = databaseUrl(name);
  const handle = await createDatabase({ url });
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= handle.close());
  t.teardown(async () => {
    await close();
    // `with (force)` terminates connections a test forgot to close, which would block the drop.
    await withAdminConnection((admin) => admin`drop database if exists ${admin(name)} with (force)`);
  });
  await migrateDatabase(handle.db);
  return { url, db: handle.db, handle, close };
}

async function withAdminConnection(run: (admin: postgres.Sql) => Promise<unknown>): Promise<void> {
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    await run(admin);
  } finally {
    await admin.end({ timeout: 5 });
  }
}

function databaseUrl(name: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}
