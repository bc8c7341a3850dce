// The provider read budget is the provider's rate limit, which is one per account however many
// workers read: every worker process on one database draws on one bucket per provider, kept in
// Postgres. While the database cannot be reached, each process falls back to a bucket of its own.
import { join } from 'node:path';
import t from 'tap';
import { sharedProviderReadBudget, type ProviderReadBudget, type ReadBudgetSettings } from '../../activities/read-budget.ts';
import { createDatabase } from '../../db/client.ts';
import { migrateDatabase } from '../../db/migrate.ts';
import { PROVIDER_NAMES, type ProviderName } from '../../domain/verification.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { eventually } from '../helpers/eventually.ts';

const everyProvider = (settings: ReadBudgetSettings) =>
  Object.fromEntries(PROVIDER_NAMES.map((name) => [name, settings])) as Record<ProviderName, ReadBudgetSettings>;

/** `count` takes of `provider`, spread round-robin over the budgets, all in flight at once. */
async function granted(budgets: ProviderReadBudget[], provider: ProviderName, count: number): Promise<number> {
  const takes = await Promise.all(Array.from({ length: count }, (_, i) => budgets[i % budgets.length]!.take(provider)));
  return takes.filter(Boolean).length;
}

t.test('worker processes on one database share each provider’s burst', async (t) => {
  const { db } = await createTestDatabase(t);
  const settings = everyProvider({ perSecond: 0.001, burst: 3 });
  const workers = [sharedProviderReadBudget(db, settings), sharedProviderReadBudget(db, settings)];
  t.equal(await granted(workers, 'persona', 20), 3, 'three reads between the two, not three each');
  t.equal(await granted(workers, 'persona', 4), 0);
  t.equal(await granted(workers, 'stripe', 4), 3, 'a Persona storm leaves Stripe its reads');
});

t.test('the embedded database (the dev default) keeps the same shared bucket', async (t) => {
  const { db, close } = await createDatabase({ url: null, dataDir: join(t.testdir(), 'pglite') });
  t.teardown(close);
  await migrateDatabase(db);
  const settings = everyProvider({ perSecond: 0.001, burst: 3 });
  t.equal(await granted([sharedProviderReadBudget(db, settings), sharedProviderReadBudget(db, settings)], 'persona', 8), 3);
});

t.test('the shared bucket refills at the rate, and never past burst + rate × elapsed', async (t) => {
  const { db } = await createTestDatabase(t);
  const settings = everyProvider({ perSecond: 20, burst: 2 });
  const workers = [sharedProviderReadBudget(db, settings), sharedProviderReadBudget(db, settings)];
  const began = performance.now();
  let total = await granted(workers, 'idmeta', 10);
  t.ok(total >= 2, 'the burst at once');
  // Hammer it until it has granted 6 more: the refill lets them through, one per 50 ms.
  await eventually(
    async () => {
      total += await granted(workers, 'idmeta', 4);
      return total;
    },
    (n) => n >= 8,
    { what: 'reads granted as the bucket refills', timeoutMs: 10_000, intervalMs: 10 },
  );
  const seconds = (performance.now() - began) / 1000;
  t.ok(total <= 2 + 20 * seconds + 1, `${total} granted in ${seconds.toFixed(2)} s, at most burst + rate × elapsed`);
});

t.test('a burst of 0 grants nothing', async (t) => {
  const { db } = await createTestDatabase(t);
  t.equal(await granted([sharedProviderReadBudget(db, everyProvider({ perSecond: 0.001, burst: 0 }))], 'persona', 5), 0);
});

t.test('without the database each process falls back to a budget of its own, and says so', async (t) => {
  const { db, close } = await createTestDatabase(t);
  const downs: unknown[] = [];
  const budget = sharedProviderReadBudget(db, everyProvider({ perSecond: 0.001, burst: 2 }), {
    onStoreDown: (err) => downs.push(err),
  });
  await close();
  t.equal(await granted([budget], 'persona', 5), 2, 'still bounded: the burst of this process');
  t.equal(downs.length, 1, 'reported once, not once per read');
});

t.test('a worker says when the database answers again, and the shared bucket decides from then on', async (t) => {
  const first = await createTestDatabase(t);
  const settings = everyProvider({ perSecond: 0.001, burst: 1 });
  const events: string[] = [];
  let db = first.db;
  // The budget's queries go to whichever database `db` is now: first one that is closed, then one that answers.
  const switching = new Proxy({} as typeof db, { get: (_, key) => Reflect.get(db, key) });
  const budget = sharedProviderReadBudget(switching, settings, {
    onStoreDown: () => events.push('down'),
    onStoreUp: () => events.push('up'),
  });
  await first.close();
  t.equal(await granted([budget], 'persona', 3), 1, "the process's own burst while the database is away");
  db = (await createTestDatabase(t)).db;
  t.equal(await granted([budget], 'persona', 1), 1, 'the shared bucket, full, decides again');
  t.equal(await granted([budget, sharedProviderReadBudget(db, settings)], 'persona', 4), 0, 'and is shared again');
  t.same(events, ['down', 'up']);
});
