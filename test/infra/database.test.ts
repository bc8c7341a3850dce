import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import t from 'tap';
import { createDatabase, selectRows } from '../../db/client.ts';
import { migrateDatabase } from '../../db/migrate.ts';
import { tenants, verificationHistory, verifications, webhookEvents } from '../../db/schema/index.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { waitFor } from '../helpers/eventually.ts';

/** Every migration drizzle-kit generated, as its journal lists them. */
const MIGRATION_COUNT = (
  JSON.parse(readFileSync(new URL('../../db/migrations/meta/_journal.json', import.meta.url), 'utf8')) as { entries: unknown[] }
).entries.length;

t.test('migrating again, even from several processes at once, changes nothing', async (t) => {
  const { url, db } = await createTestDatabase(t);
  const others = await Promise.all([createDatabase({ url }), createDatabase({ url })]);
  t.teardown(() => Promise.all(others.map((other) => other.close())));

  await Promise.all([migrateDatabase(db), ...others.map((other) => migrateDatabase(other.db))]);

  const applied = await selectRows(db, sql`select count(*)::int as count from drizzle.__drizzle_migrations`);
  t.same(applied, [{ count: MIGRATION_COUNT }]);
});

t.test('a provider event is stored once: (provider, providerEventId) is unique', async (t) => {
  const { db } = await createTestDatabase(t);
  const event = { provider: 'persona', providerEventId: 'evt_1', payload: { data: {} }, signatureValid: true };
  await db.insert(webhookEvents).values(event);

  await t.rejects(db.insert(webhookEvents).values(event), { cause: { code: '23505' } });
  const stored = await db.insert(webhookEvents).values(event).onConflictDoNothing().returning();
  t.same(stored, [], 'the intake path can detect a duplicate without an error');
  await db.insert(webhookEvents).values({ ...event, provider: 'stripe' });
  const rows = await db.select().from(webhookEvents);
  t.equal(rows.length, 2, 'the same event id from another provider is another event');
});

t.test('rows round-trip with defaults, jsonb and cascades, inside a transaction', async (t) => {
  const { db } = await createTestDatabase(t);
  const verificationId = randomUUID();
  await db.transaction(async (tx) => {
    const [tenant] = await tx.insert(tenants).values({ name: 'acme' }).returning();
    await tx.insert(verifications).values({
      id: verificationId,
      tenantId: tenant!.id,
      provider: 'persona',
      workflowId: `verification-${verificationId}`,
      progress: { currentStep: 1, totalSteps: 3, percentage: 33, message: 'Document' },
    });
    await tx
      .insert(verificationHistory)
      .values({ verificationId, seq: 1, at: new Date(), source: 'api', toStatus: 'created', applied: true });
  });

  const [row] = await db.select().from(verifications).where(eq(verifications.id, verificationId));
  t.equal(row?.status, 'created');
  t.same(row?.progress, { currentStep: 1, totalSteps: 3, percentage: 33, message: 'Document' });
  t.type(row?.createdAt, Date);

  await db.delete(tenants);
  t.same(await db.select().from(verificationHistory), [], 'deleting the tenant removes its verifications and history');
});

t.test('PGlite starts in a fresh directory, migrates and answers queries', async (t) => {
  const { db, kind, close } = await createDatabase({ url: null, dataDir: join(t.testdir(), 'pglite') });
  t.teardown(close);
  t.equal(kind, 'pglite');

  await migrateDatabase(db);
  await migrateDatabase(db);
  t.same(await selectRows(db, sql`select count(*)::int as count from drizzle.__drizzle_migrations`), [{ count: MIGRATION_COUNT }]);
  await db.insert(tenants).values({ name: 'dev', allowedProviders: ['persona'] });
  const rows = await db.select({ name: tenants.name, allowedProviders: tenants.allowedProviders }).from(tenants);
  t.same(rows, [{ name: 'dev', allowedProviders: ['persona'] }]);
});

t.test('listen delivers pg_notify payloads on both drivers', async (t) => {
  const postgresDb = await createTestDatabase(t);
  const postgres = await createDatabase({ url: postgresDb.url });
  const pglite = await createDatabase({ url: null, dataDir: join(t.testdir(), 'pglite') });
  t.teardown(() => Promise.all([postgres.close(), pglite.close()]));

  for (const handle of [postgres, pglite]) {
    const received: string[] = [];
    const unlisten = await handle.listen('verification_changed', (payload) => received.push(payload));
    await handle.db.execute(sql`select pg_notify('verification_changed', 'v1')`);
    await waitFor(() => received.length > 0, `the notification on ${handle.kind}`);
    await unlisten();
    t.same(received, ['v1'], handle.kind);
  }
});
