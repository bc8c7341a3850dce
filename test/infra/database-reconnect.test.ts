// A database blip must not outlast itself. postgres.js waits before each reconnect, and its default
// wait grows with every failed attempt (up to 20 s, reset only by a success): after a few seconds
// of outage under load, every query first sat out that wait. During the outage intake then
// answered "too slow" instead of "unavailable", and after it queries stalled for seconds on a
// database that was back.
import t from 'tap';
import { createDatabase, selectRows } from '../../db/client.ts';
import { sql } from 'drizzle-orm';
import { STORE_DEADLINE_MS } from '../../api/services/webhook-intake.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';

t.test('after an outage with many failed queries, queries fail fast and recover as soon as the database is back', async (t) => {
  const { url } = await createTestDatabase(t);
  const target = new URL(url);
  const proxy = await startTcpProxy(t, { host: target.hostname, port: Number(target.port || 5432) });
  const database = await createDatabase({ url: proxy.via(url) });
  t.teardown(() => database.close());
  const ping = async () => {
    const started = Date.now();
    const outcome = await selectRows(database.db, sql`select 1 as one`).then(
      () => 'ok',
      () => 'failed',
    );
    return { outcome, ms: Date.now() - started };
  };
  t.same((await ping()).outcome, 'ok');

  proxy.cut();
  // A busy service keeps trying through the outage: ten callers, one second.
  const outageEnds = Date.now() + 1000;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (Date.now() < outageEnds) await ping();
    }),
  );
  const during = await Promise.all(Array.from({ length: 10 }, ping));
  t.same(new Set(during.map((p) => p.outcome)), new Set(['failed']), 'queries fail while the database is unreachable');
  const slowestFailure = Math.max(...during.map((p) => p.ms));
  t.ok(slowestFailure < STORE_DEADLINE_MS, `and fail within intake's store deadline (${slowestFailure} ms)`);

  proxy.restore();
  const after = await Promise.all(Array.from({ length: 10 }, ping));
  t.same(new Set(after.map((p) => p.outcome)), new Set(['ok']), 'every query succeeds once the database is back');
  const slowestRecovery = Math.max(...after.map((p) => p.ms));
  t.ok(slowestRecovery < STORE_DEADLINE_MS, `without sitting out a reconnect wait first (${slowestRecovery} ms)`);
});
