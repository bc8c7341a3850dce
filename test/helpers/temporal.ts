import { Client, Connection } from '@temporalio/client';
import type { Test } from 'tap';
import { getDataConverter } from '../../wiring/codec.js';
import { parseEnv } from '../../config/env.js';
import { tracingClientInterceptors } from '../../wiring/tracing.js';
import { startTemporalDevServer } from '../../scripts/lib/temporal-dev-server.js';

export interface TestTemporal {
  address: string;
  connection: Connection;
  /** On namespace `default`. */
  client: Client;
  stop(): Promise<void>;
}

/**
 * The Temporal server of this test file: the cluster `npm run test:cluster` started when
 * TEMPORAL_TEST_ADDRESS is set (shared by the files of that run, which it runs one at a time),
 * else a real, in-memory, headless dev server per test file. Either way closed at teardown.
 */
export async function startTestTemporal(t: Pick<Test, 'teardown'>): Promise<TestTemporal> {
  const shared = process.env.TEMPORAL_TEST_ADDRESS;
  if (shared) return connectTestTemporal(t, shared);
  const server = await startTemporalDevServer({ dbFile: null, uiPort: null });
  return connectTestTemporal(t, server.address, () => server.stop());
}

/** A client for the server at `address`; its stop() (also at teardown) closes the connection, then runs `stopServer`. */
export async function connectTestTemporal(
  t: Pick<Test, 'teardown'>,
  address: string,
  stopServer: () => Promise<void> = async () => {},
): Promise<TestTemporal> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address });
  } catch (error) {
    await stopServer();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await connection.close();
      await stopServer();
    })());
  t.teardown(stop);
  // The workers' data converter (wiring/codec.ts): payloads are encrypted, so clients decrypt with the same keys.
  // Client interceptors as wiring/temporal.ts's: when the test started tracing, signals carry the trace.
  const client = new Client({
    connection,
    namespace: 'default',
    dataConverter: getDataConverter(parseEnv()),
    interceptors: { workflow: tracingClientInterceptors() },
  });
  return { address, connection, client, stop };
}
