// A loopback proxy in front of Postgres that counts round trips as the bench does
// (bench/pg-wire-counter.ts), so a test can pin how many a piece of code costs.
import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';
import type { Test } from 'tap';
import { PgRoundTripCounter } from '../../bench/pg-wire-counter.ts';

export interface PgRoundTrips {
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string;
  /** Round trips of every connection through the proxy so far. */
  readonly count: number;
}

export async function countPgRoundTrips(t: Pick<Test, 'teardown'>, url: string): Promise<PgRoundTrips> {
  const target = new URL(url);
  const counters: PgRoundTripCounter[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const counter = new PgRoundTripCounter();
    counters.push(counter);
    const upstream = createConnection({ host: target.hostname, port: Number(target.port || 5432) });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket)).on('error', () => undefined);
    }
    client.on('data', (chunk) => counter.push(chunk));
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    via: (to) => Object.assign(new URL(to), { hostname: '127.0.0.1', port: String(port) }).toString(),
    get count() {
      return counters.reduce((sum, c) => sum + c.roundTrips, 0);
    },
  };
}
