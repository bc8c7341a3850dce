import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { Test } from 'tap';
import { getDataConverter } from '../../wiring/codec.ts';
import { parseEnv } from '../../config/env.ts';
import { tracingClientInterceptors } from '../../wiring/tracing.ts';
import { registerNamespaceAndSearchAttributes } from '../../scripts/lib/temporal-cluster.ts';
import { startTemporalDevServer } from '../../scripts/lib/temporal-dev-server.ts';

export interface TestTemporal {
  address: string;
  connection: Connection;
  /** The namespace of this test file: `default`, or one of its own on a server shared by parallel files. */
  namespace: string;
  /** On `namespace`. */
  client: Client;
  stop(): Promise<void>;
}

/**
 * Set by test/run.ts (`npm test`): TEMPORAL_TEST_ADDRESS is one dev server for the whole run,
 * shared by files running in parallel, so each file works in a namespace of its own. Without it,
 * TEMPORAL_TEST_ADDRESS is the cluster of `npm run test:cluster`, whose files run one at a time
 * in `default`.
 */
export const NAMESPACE_PER_FILE = process.env.TEMPORAL_TEST_NAMESPACE_PER_FILE === '1';

/**
 * The Temporal server of this test file: the server the run shares when TEMPORAL_TEST_ADDRESS is
 * set (see NAMESPACE_PER_FILE), else a real, in-memory, headless dev server of its own. Either
 * way closed at teardown.
 */
export async function startTestTemporal(t: Pick<Test, 'teardown'>): Promise<TestTemporal> {
  const shared = process.env.TEMPORAL_TEST_ADDRESS;
  if (shared) return connectTestTemporal(t, shared, { namespace: NAMESPACE_PER_FILE ? await registerTestNamespace(shared) : 'default' });
  const server = await startTemporalDevServer({ dbFile: null, uiPort: null });
  return connectTestTemporal(t, server.address, { stopServer: () => server.stop() });
}

/**
 * A fresh namespace with the search attributes the dev server registers in `default`: workflow
 * ids (verification-<id>, deliveries numbered by each file's own database), task queues and
 * worker deployments of parallel files cannot meet.
 */
async function registerTestNamespace(address: string): Promise<string> {
  const namespace = `vf-test-${randomBytes(6).toString('hex')}`;
  await registerNamespaceAndSearchAttributes(address, namespace);
  return namespace;
}

export interface ConnectOptions {
  /** Default `default`. */
  namespace?: string;
  /** Runs after the connection is closed, e.g. to stop a server of the test's own. */
  stopServer?: () => Promise<void>;
}

/** A client for the server at `address`; its stop() (also at teardown) closes the connection, then runs `stopServer`. */
export async function connectTestTemporal(
  t: Pick<Test, 'teardown'>,
  address: string,
  { namespace = 'default', stopServer = async () => {} }: ConnectOptions = {},
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
    namespace,
    dataConverter: getDataConverter(parseEnv()),
    interceptors: { workflow: tracingClientInterceptors() },
  });
  return { address, connection, namespace, client, stop };
}
