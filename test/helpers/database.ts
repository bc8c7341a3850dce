import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import type { Test } from 'tap';
import { createDatabase, type Database, type DatabaseHandle } from '../../db/client.ts';
import { migrateDatabase } from '../../db/migrate.ts';
import { tenants, verifications } from '../../db/schema/index.ts';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../db/migrations', import.meta.url));

export interface TestDatabase {
  url: string;
  db: Database;
  /** The full handle (listen, kind) for code that takes one. */
  handle: DatabaseHandle;
  close(): Promise<void>;
}

/**
 * A fresh, migrated database per call: tap runs test files in parallel, and a shared database
 * would let one file's rows break another's assertions. Copied from a template database the
 * migrations were applied to once (per content of db/migrations), which costs a file copy
 * instead of running every migration again. Dropped at teardown.
 */
export async function createTestDatabase(t: Pick<Test, 'teardown'>): Promise<TestDatabase> {
  const template = await migratedTemplate();
  const name = `vf_test_${randomBytes(6).toString('hex')}`;
  await withAdminConnection((admin) => admin`create database ${admin(name)} template ${admin(template)}`);
  const url = databaseUrl(name);
  const handle = await createDatabase({ url });
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= handle.close());
  t.teardown(async () => {
    await close();
    // `with (force)` terminates connections a test forgot to close, which would block the drop.
    await withAdminConnection((admin) => admin`drop database if exists ${admin(name)} with (force)`);
  });
  return { url, db: handle.db, handle, close };
}

/** A hash of every file in the migrations folder (names and contents): another migration, another template. */
export async function migrationsHash(dir = MIGRATIONS_DIR): Promise<string> {
  const hash = createHash('sha256');
  for (const file of (await filesUnder(dir)).sort())
    hash
      .update(`${relative(dir, file)}\0`)
      .update(await readFile(file))
      .update('\0');
  return hash.digest('hex');
}

// Not readdir's `recursive`: its entries say their folder (parentPath) only from Node 20.12.
async function filesUnder(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await filesUnder(path)));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

let template: Promise<string> | undefined;

/**
 * The template of this migration set, built by the first test file that needs it. Shared by the
 * test files of a run (and later runs) through the server, so building is safe against another
 * process doing the same at once: each migrates a database of its own and renames it into place,
 * and the one that loses the rename drops its copy. Nobody can connect to the template (a
 * connection to it would make every CREATE DATABASE … TEMPLATE fail).
 */
function migratedTemplate(): Promise<string> {
  template ??= (async () => {
    const name = `vf_template_${(await migrationsHash()).slice(0, 16)}`;
    const exists = await withAdminConnection((admin) => admin`select 1 from pg_database where datname = ${name}`);
    if (exists.length > 0) return name;
    const building = `vf_building_${randomBytes(6).toString('hex')}`;
    await withAdminConnection((admin) => admin`create database ${admin(building)}`);
    try {
      const handle = await createDatabase({ url: databaseUrl(building) });
      try {
        await migrateDatabase(handle.db);
      } finally {
        await handle.close();
      }
      await withAdminConnection(async (admin) => {
        await admin`alter database ${admin(building)} with is_template true allow_connections false`;
        try {
          await admin`alter database ${admin(building)} rename to ${admin(name)}`;
        } catch (error) {
          // 42P04 duplicate_database: another process finished the same template first.
          if ((error as { code?: string }).code !== '42P04') throw error;
        }
      });
    } finally {
      // Gone after a successful rename; a template is only dropped once it is no longer one.
      await withAdminConnection(async (admin) => {
        await admin`alter database ${admin(building)} with is_template false`.catch(() => {});
        await admin`drop database if exists ${admin(building)} with (force)`;
      });
    }
    return name;
  })();
  template.catch(() => {
    template = undefined; // a failed build (server down) is retried by the next caller
  });
  return template;
}

async function withAdminConnection<T>(run: (admin: postgres.Sql) => Promise<T>): Promise<T> {
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    return await run(admin);
  } finally {
    await admin.end({ timeout: 5 });
  }
}

function databaseUrl(name: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A tenant of its own and a Persona verification of it (`values` override the row's columns), for tests that write rows beside it. */
export async function seedVerification(
  db: Database,
  values: Partial<typeof verifications.$inferInsert> = {},
): Promise<{ tenantId: string; verificationId: string }> {
  const [tenant] = await db
    .insert(tenants)
    .values({ name: `t_${randomUUID()}` })
    .returning({ id: tenants.id });
  const verificationId = values.id ?? randomUUID();
  await db
    .insert(verifications)
    .values({ tenantId: tenant!.id, provider: 'persona', workflowId: `wf_${verificationId}`, ...values, id: verificationId });
  return { tenantId: tenant!.id, verificationId };
}
