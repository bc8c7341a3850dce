// A database blip must not outlast itself. postgres.js waits before each reconnect, and its default
// wait grows with every failed attempt (up to 20 s, reset only by a success): after a few seconds
// of outage under load, every query first sat out that wait. During the outage intake then
// answered "too slow" instead of "unavailable", and after it queries stalled for seconds on a
// database that was back.
import t, { type Test } from 'tap';
import { createDatabase, selectRows } from '../../db/client.ts';
import { sql } from 'drizzle-orm';
import { STORE_DEADLINE_MS } from '../../api/services/webhook-intake.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import { eventually } from '../helpers/eventually.ts';
import postgres from 'postgres';

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

// A connection whose query is waiting for its answer when the connection is reset.
async function resetMidQuery(t: Test) {
  const { url } = await createTestDatabase(t);
  const target = new URL(url);
  const proxy = await startTcpProxy(t, { host: target.hostname, port: Number(target.port || 5432) });
  const client = postgres(proxy.via(url), { max: 1, onnotice: () => {} });
  t.same(await client`select 1 as one`, [{ one: 1 }]);

  proxy.pause('replies');
  const stalled = client`select pg_sleep(0.2)`.then(
    () => 'answered',
    (error: { code?: string }) => error.code ?? 'failed',
  );
  await eventually(
    async () => proxy.held,
    (held) => held > 0,
    { what: 'the database answering while its reply is held', intervalMs: 10 },
  );
  proxy.cut();
  t.equal(await stalled, 'ECONNRESET', 'the query in flight fails with the reset');
  proxy.resume();
  proxy.restore();
  return { client, proxy };
}

async function within<T>(promise: Promise<T>): Promise<T | 'still waiting'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'still waiting'>((resolve) => {
    timer = setTimeout(resolve, STORE_DEADLINE_MS * 4, 'still waiting');
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

// A reset while a query waits for its answer must cost that query only. postgres.js 3.4.9 left the
// connection marked busy until the socket's 'close' came: a query issued before that was written
// to the dead socket and waited forever, and no reconnect was ever tried.
t.test('a connection reset while a query awaits its reply fails that query, and the next one reconnects', async (t) => {
  const { client, proxy } = await resetMidQuery(t);
  t.teardown(() => client.end({ timeout: 2 }));
  const next = await within(client`select 2 as two`.then((rows) => rows[0]));
  t.same(next, { two: 2 }, 'the next query is answered on a new connection');
  t.equal(proxy.forwarded, 2, 'through one reconnect');
});

// The same reset left the failed query on its connection, and end() waited for it forever
// (porsager/postgres#1130): shutdown hung on the database pool.
t.test('after a reset mid-query the pool still ends', async (t) => {
  const { client } = await resetMidQuery(t);
  t.equal(await within(client.end().then(() => 'ended')), 'ended');
});
