// The embedded database (PGlite) served over the Postgres wire protocol on 127.0.0.1, in a process
// of its own: the API, the worker, the CLIs, drizzle-kit studio and psql then share one
// DATABASE_URL, and the database's CPU work does not stall the API's event loop.
// Started by `npm run dev` (fork, IPC); sends { url } once it accepts connections.
import { mkdir } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { acquireEmbeddedLock } from './embedded-lock.js';

const HOST = '127.0.0.1';
/** postgres.js pools 10 per process; the API, the worker, CLIs and tools each bring their own. */
const MAX_CONNECTIONS = 100;
/** NotificationResponse ('A'): the only server message LISTEN clients wait for between queries. */
const NOTIFICATION = 0x41;

export interface EmbeddedServer {
  url: string;
  close(): Promise<void>;
}

export function embeddedDatabaseUrl(port: number): string {
  return `postgres://postgres@${HOST}:${port}/postgres`;
}

export async function startEmbeddedServer({ dataDir, port }: { dataDir: string; port: number }): Promise<EmbeddedServer> {
  const url = embeddedDatabaseUrl(port);
  await mkdir(dirname(dataDir), { recursive: true });
  const release = await acquireEmbeddedLock(dataDir, url);
  try {
    const db = await PGlite.create(dataDir);
    const server = new PGLiteSocketServer({ db, host: HOST, port, maxConnections: MAX_CONNECTIONS });
    const sockets = relayNotifications(db);
    await server.start();
    // The package keeps its net.Server private; every client socket is needed for the relay.
    server['server']?.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    return {
      url,
      async close() {
        await server.stop();
        await db.close();
        await release();
      },
    };
  } catch (error) {
    await release();
    throw error;
  }
}

/**
 * All clients share PGlite's single session, so a NOTIFY comes back only in the reply to whoever
 * committed it, never to the connection that ran LISTEN (the API's live streams). Every
 * notification in a reply is therefore also sent to every other client, between its messages.
 */
function relayNotifications(db: PGlite): Set<Socket> {
  const sockets = new Set<Socket>();
  const execute = db.execProtocolRawStream.bind(db);
  db.execProtocolRawStream = async (message, options) => {
    const reply: Uint8Array[] = [];
    const result = await execute(message, {
      ...options,
      onRawData: (chunk) => {
        reply.push(Uint8Array.from(chunk));
        options.onRawData(chunk);
      },
    });
    const notifications = notificationMessages(Buffer.concat(reply));
    // One query runs at a time (the socket server queues them), so no other client is mid-reply.
    for (const socket of notifications.length > 0 ? sockets : []) {
      if (socket.writable) for (const notification of notifications) socket.write(notification);
    }
    return result;
  };
  return sockets;
}

function notificationMessages(reply: Buffer): Buffer[] {
  const found: Buffer[] = [];
  // A reply is whole messages: type byte, then a length that counts itself but not the type.
  for (let at = 0; at + 5 <= reply.length; at += 1 + reply.readInt32BE(at + 1)) {
    if (reply[at] === NOTIFICATION) found.push(reply.subarray(at, at + 1 + reply.readInt32BE(at + 1)));
  }
  return found;
}

async function main(): Promise<void> {
  const dataDir = process.env.PGLITE_DIR ?? '.data/pglite';
  const server = await startEmbeddedServer({ dataDir, port: Number(process.env.PGLITE_PORT) });
  let closing: Promise<void> | undefined;
  const stop = () => (closing ??= server.close().then(() => process.exit(0)));
  process.on('SIGTERM', () => void stop());
  // Ctrl-C reaches the whole process group; the dev script decides the order of shutdown.
  process.on('SIGINT', () => undefined);
  // The dev script died without stopping us: nobody else would.
  process.on('disconnect', () => void stop());
  process.send?.({ url: server.url });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    process.send?.({ error: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  });
}
