import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import t from 'tap';
import { createTestDatabase, migrationsHash, TEST_DATABASE_URL } from './database.ts';

const MIGRATIONS = fileURLToPath(new URL('../../db/migrations', import.meta.url));

async function admin<T>(run: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const client = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    return await run(client);
  } finally {
    await client.end({ timeout: 5 });
  }
}

t.test('parallel test databases are each migrated, separate, and cloned from one template nobody can connect to', async (t) => {
  const databases = await Promise.all([1, 2, 3].map(() => createTestDatabase(t)));
  const journal = JSON.parse(await readFile(join(MIGRATIONS, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };
  for (const database of databases) {
    const [applied] = (await database.db.execute(sql`select count(*)::int as count from drizzle.__drizzle_migrations`)) as unknown as {
      count: number;
    }[];
    t.equal(applied?.count, journal.entries.length, 'every migration applied');
  }
  await databases[0]!.db.execute(sql`create table only_in_the_first (id int)`);
  const [seen] = (await databases[1]!.db.execute(sql`select to_regclass('only_in_the_first') as name`)) as unknown as { name: unknown }[];
  t.equal(seen?.name, null, 'a table made in one is not in another');

  const template = `vf_template_${(await migrationsHash()).slice(0, 16)}`;
  const rows = await admin((a) => a`select datistemplate, datallowconn from pg_database where datname = ${template}`);
  t.same(rows, [{ datistemplate: true, datallowconn: false }], `${template}: a template, closed to connections`);
});

t.test('the template is named by the content of the migrations: another migration, another template', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vf-migrations-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await cp(MIGRATIONS, dir, { recursive: true });
  const current = await migrationsHash();
  t.equal(await migrationsHash(dir), current, 'the same files, the same hash');
  await writeFile(join(dir, '0099_more.sql'), 'select 1;');
  t.not(await migrationsHash(dir), current);
});
