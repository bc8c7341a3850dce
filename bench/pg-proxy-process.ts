// A loopback TCP proxy in front of Postgres that counts round trips (bench/pg-wire-counter.ts)
// for the API and worker. Its own process, so counting never waits on the load generator.
import { createConnection, createServer } from 'node:net';
import { once } from 'node:events';
import { announce, serveStats } from './child-stats.ts';
import { PgRoundTripCounter } from './pg-wire-counter.ts';

const target = new URL(process.env.BENCH_PG_TARGET ?? 'postgres://127.0.0.1:5432');
const counters = new Set<PgRoundTripCounter>();
let closedRoundTrips = 0;

const proxy = createServer((client) => {
  const counter = new PgRoundTripCounter();
  counters.add(counter);
  const upstream = createConnection({ host: target.hostname, port: Number(target.port || 5432) });
  client.on('data', (chunk) => counter.push(chunk));
  client.pipe(upstream).pipe(client);
  const close = () => {
    if (!counters.delete(counter)) return;
    closedRoundTrips += counter.roundTrips;
    client.destroy();
    upstream.destroy();
  };
  for (const socket of [client, upstream]) socket.on('close', close).on('error', close);
});
proxy.listen(0, '127.0.0.1');
await once(proxy, 'listening');
const stats = await serveStats(() => ({
  roundTrips: closedRoundTrips + [...counters].reduce((sum, c) => sum + c.roundTrips, 0),
}));
announce({ port: (proxy.address() as { port: number }).port, statsUrl: stats.url });
