// A real Temporal dev server on a SQLite file and a fixed port, which the test can stop and start
// again: the same address, the same persisted workflows, as after a crash or a deploy. Pass it to
// startStack({ temporal }) so API, sweeper and worker all talk to it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Test } from 'tap';
import { getDataConverter } from '../../runtime/codec.js';
import { pickFreePort, startTemporalDevServer, type TemporalDevServer } from '../../scripts/lib/temporal-dev-server.js';
import type { TestTemporal } from './temporal.js';

export interface RestartableTemporal extends TestTemporal {
  dbFile: string;
  /** Stops the server (SIGTERM, SQLite flushed); clients stay, and reconnect once it is back. */
  stopServer(): Promise<void>;
  /** Starts it again on the same file and port. */
  startServer(): Promise<void>;
}

export async function startRestartableTemporal(t: Pick<Test, 'teardown'>): Promise<RestartableTemporal> {
  const dir = await mkdtemp(join(tmpdir(), 'vf-temporal-'));
  const dbFile = join(dir, 'temporal.sqlite');
  const port = await pickFreePort();
  let server: TemporalDevServer | null = await startTemporalDevServer({ dbFile, port, uiPort: null });
  const address = server.address;
  const connection = await Connection.connect({ address });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await connection.close();
      await server?.stop();
      server = null;
      await rm(dir, { recursive: true, force: true });
    })());
  t.teardown(stop);
  return {
    address,
    connection,
    client: new Client({ connection, namespace: 'default', dataConverter: getDataConverter() }),
    stop,
    dbFile,
    async stopServer() {
      await server?.stop();
      server = null;
    },
    async startServer() {
      if (server) return;
      server = await startTemporalDevServer({ dbFile, port, uiPort: null });
    },
  };
}
