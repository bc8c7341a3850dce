import { Client, Connection } from '@temporalio/client';
import type { Test } from 'tap';
import { getDataConverter } from '../../runtime/codec.js';
import { startTemporalDevServer } from '../../scripts/lib/temporal-dev-server.js';

export interface TestTemporal {
  address: string;
  connection: Connection;
  /** On namespace `default`. */
  client: Client;
  stop(): Promise<void>;
}

/** A real, in-memory, headless Temporal server per test file, stopped at teardown. */
export async function startTestTemporal(t: Pick<Test, 'teardown'>): Promise<TestTemporal> {
  const server = await startTemporalDevServer({ dbFile: null, uiPort: null });
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: server.address });
  } catch (error) {
    await server.stop();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await connection.close();
      await server.stop();
    })());
  t.teardown(stop);
  // The workers' data converter (runtime/codec.ts): payloads are encrypted, so clients decrypt with the same keys.
  return { address: server.address, connection, client: new Client({ connection, namespace: 'default', dataConverter: getDataConverter() }), stop };
}
