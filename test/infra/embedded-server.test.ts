// The embedded database over the wire protocol, as the dev stack's processes use it at once:
// concurrent extended-protocol queries from several clients, LISTEN in one and NOTIFY in another,
// and the lock that keeps a second process from opening the directory.
import { join } from 'node:path';
import postgres from 'postgres';
import t from 'tap';
import { createDatabase } from '../../db/client.ts';
import { EmbeddedDatabaseBusyError, readEmbeddedLock } from '../../db/embedded-lock.ts';
import { startEmbeddedServer } from '../../db/embedded-server.ts';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.ts';
import { eventually } from '../helpers/stack.ts';

t.test('embedded database server', async (t) => {
  const dataDir = join(t.testdir(), 'pglite');
  const server = await startEmbeddedServer({ dataDir, port: await pickFreePort() });
  t.teardown(() => server.close());
  const clients = [0, 1, 2].map(() => postgres(server.url, { max: 4, onnotice: () => {} }));
  t.teardown(() => Promise.all(clients.map((c) => c.end({ timeout: 1 }))));

  t.test('concurrent parameterised queries from several clients each get their own answer', async (t) => {
    // Unnamed statements, as drizzle sends them, with different parameter counts: interleaved
    // Parse/Bind of two clients fail with "bind message supplies 1 parameters, but … requires 3".
    const queries = Array.from({ length: 60 }, (_, i) => {
      const client = clients[i % clients.length]!;
      return i % 2 === 0
        ? client.unsafe('select $1::int as a', [i])
        : client.unsafe('select $1::int as a, $2::text as b, $3::bool as c', [i, 'x', true]);
    });
    const rows = await Promise.all(queries);
    t.same(
      rows.map((r) => (r[0] as unknown as { a: number }).a),
      Array.from({ length: 60 }, (_, i) => i),
    );
  });

  t.test('a NOTIFY from one client reaches another client’s LISTEN', async (t) => {
    const heard: string[] = [];
    const listening = await clients[0]!.listen('dev_stack_channel', (payload) => heard.push(payload));
    t.teardown(() => listening.unlisten());
    await clients[1]!.begin((tx) => tx`select pg_notify('dev_stack_channel', 'committed')`);
    const got = await eventually(
      async () => [...heard],
      (h) => h.includes('committed'),
      { timeoutMs: 5_000 },
    );
    t.same(got, ['committed']);
  });

  t.test('without DATABASE_URL, other processes reach the served database; nobody opens the directory twice', async (t) => {
    t.match(await readEmbeddedLock(dataDir), { pid: process.pid, url: server.url });
    const viaLock = await createDatabase({ url: null, dataDir });
    t.teardown(() => viaLock.close());
    t.equal(viaLock.kind, 'postgres', 'createDatabase connects to the running server');
    await t.rejects(startEmbeddedServer({ dataDir, port: await pickFreePort() }), EmbeddedDatabaseBusyError, 'a second server is refused');
  });
});
