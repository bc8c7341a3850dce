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
import { acquireEmbeddedLock } from './embedded-lock.ts';

const HOST = '127.0.0.1';
/** postgres.js pools 10 per process; the API, the worker, CLIs and tools each bring their own. */
const MAX_CONNECTIONS = 100;
/** NotificationResponse ('A'): the only server message LISTEN clients wait for between queries. */
const NOTIFICATION = 0x41;
/** Parse, Bind, Describe, Execute, Close, Flush: messages of an extended query, which ends at Sync. */
const EXTENDED_QUERY = new Set([0x50, 0x42, 0x44, 0x45, 0x43, 0x48]);
const SYNC = 0x53;
const SIMPLE_QUERY = 0x51;

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
    const sockets = shareOneSession(db);
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
 * Every client shares PGlite's one session, which the socket server queues message by message.
 * Two things then go wrong between clients, and are put right here:
 * - An extended-protocol query (Parse, Bind, Describe, Execute … Sync) uses the session's unnamed
 *   statement and portal, so another client's messages must not run in between: the sequence is
 *   reported as a transaction, which makes the queue serve only its client until the Sync.
 * - A NOTIFY comes back only in the reply to whoever committed it, never to the connection that
 *   ran LISTEN (the API's live streams): each notification is also sent to every other client.
 */
function shareOneSession(db: PGlite): Set<Socket> {
  const sockets = new Set<Socket>();
  let sequenceOpen = false;
  const inTransaction = db.isInTransaction.bind(db);
  db.isInTransaction = () => sequenceOpen || inTransaction();
  const execute = db.execProtocolRawStream.bind(db);
  db.execProtocolRawStream = async (message, options) => {
    const type = message[0];
    if (type !== undefined && EXTENDED_QUERY.has(type)) sequenceOpen = true;
    else if (type === SYNC || type === SIMPLE_QUERY) sequenceOpen = false;
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
  // Ctrl-C (and SIGHUP, its terminal closing) reaches the whole process group; the dev script
  // decides the order of shutdown.
  for (const signal of ['SIGINT', 'SIGHUP'] as const) process.on(signal, () => undefined);
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
