// A TCP proxy on loopback the test can cut: while cut, open connections are destroyed and new
// ones are reset at once, so whatever sits behind it (Postgres) is unreachable, not slow.
import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';
import type { Test } from 'tap';

export interface TcpProxy {
  port: number;
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string;
  cut(): void;
  restore(): void;
  /** Delay every chunk in both directions by this much (a slow network or an overloaded database). */
  setLatency(ms: number): void;
  /**
   * Hold every chunk in both directions (a server that stops answering without closing anything),
   * or with `replies` only the server's (requests arrive, their answers are lost in the stall);
   * resume() sends them on, in order.
   */
  pause(which?: 'both' | 'replies'): void;
  resume(): void;
  /** Connections accepted and forwarded so far. */
  readonly forwarded: number;
  /** Connections reset because the proxy was cut: someone tried to reach the server during the outage. */
  readonly refused: number;
  /** Chunks held by pause() and not yet resumed. */
  readonly held: number;
}

export async function startTcpProxy(t: Pick<Test, 'teardown'>, target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let isCut = false;
  let forwarded = 0;
  let refused = 0;
  let latencyMs = 0;
  let held: (() => void)[] | null = null;
  let holdRequests = true;
  // Equal delays fire in order, so a delayed stream stays a stream.
  const relay = (from: Socket, to: Socket, isRequest: boolean) =>
    from.on('data', (chunk) => {
      const send = () => to.writable && to.write(chunk);
      if (held && (holdRequests || !isRequest)) held.push(send);
      else if (latencyMs === 0) send();
      else setTimeout(send, latencyMs);
    });
  const server = createServer((client) => {
    if (isCut) {
      refused += 1;
      client.resetAndDestroy();
      return;
    }
    forwarded += 1;
    const upstream = createConnection(target);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    relay(client, upstream, true);
    relay(upstream, client, false);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const destroyAll = () => {
    for (const socket of sockets) socket.resetAndDestroy();
    sockets.clear();
  };
  t.teardown(async () => {
    destroyAll();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    port,
    via(url) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    cut() {
      isCut = true;
      destroyAll();
    },
    restore() {
      isCut = false;
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    pause(which = 'both') {
      holdRequests = which === 'both';
      held ??= [];
    },
    resume() {
      const sends = held ?? [];
      held = null;
      for (const send of sends) send();
    },
    get forwarded() {
      return forwarded;
    },
    get refused() {
      return refused;
    },
    get held() {
      return held?.length ?? 0;
    },
  };
}
