// A real Temporal server the test can stop and start again: the same address, the same persisted
// workflows, as after a crash or a deploy. Pass it to startStack({ temporal }) so API, sweeper and
// worker all talk to it. Under `npm run test:cluster` it is the run's PostgreSQL cluster, stopped
// and started through the runner's control endpoint (TEMPORAL_TEST_CONTROL_URL); otherwise (also
// under `npm test`, whose shared dev server other files use meanwhile) a dev server on a SQLite
// file and a fixed port of its own.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { pickFreePort, startTemporalDevServer, type TemporalDevServer } from '../../scripts/lib/temporal-dev-server.ts';
import { connectTestTemporal, NAMESPACE_PER_FILE, startTestTemporal, type TestTemporal } from './temporal.ts';

export interface RestartableTemporal extends TestTemporal {
  /** Stops the server (SIGTERM, state flushed); clients stay, and reconnect once it is back. */
  stopServer(): Promise<void>;
  /** Starts it again on the same storage and port; resolves once it serves. */
  startServer(): Promise<void>;
}

export async function startRestartableTemporal(t: Pick<Test, 'teardown'>): Promise<RestartableTemporal> {
  // The dev server `npm test` shares serves files running in parallel: none of them may stop it.
  return process.env.TEMPORAL_TEST_ADDRESS && !NAMESPACE_PER_FILE ? sharedCluster(t) : ownDevServer(t);
}

async function sharedCluster(t: Pick<Test, 'teardown'>): Promise<RestartableTemporal> {
  const control = process.env.TEMPORAL_TEST_CONTROL_URL;
  if (!control)
    throw new Error(
      'TEMPORAL_TEST_ADDRESS is set without TEMPORAL_TEST_CONTROL_URL: this test restarts the server, and only the runner that owns it can (npm run test:cluster).',
    );
  const temporal = await startTestTemporal(t);
  const command = async (action: 'stop' | 'start') => {
    const response = await fetch(`${control}/${action}`, { method: 'POST' });
    const text = await response.text();
    if (!response.ok) throw new Error(`cluster ${action} failed (${response.status}): ${text}`);
  };
  // Whatever the test does, the next file of the run needs the cluster up.
  t.teardown(() => command('start'));
  return { ...temporal, stopServer: () => command('stop'), startServer: () => command('start') };
}

async function ownDevServer(t: Pick<Test, 'teardown'>): Promise<RestartableTemporal> {
  const dir = await mkdtemp(join(tmpdir(), 'vf-temporal-'));
  const dbFile = join(dir, 'temporal.sqlite');
  const port = await pickFreePort();
  let server: TemporalDevServer | null = await startTemporalDevServer({ dbFile, port, uiPort: null });
  const temporal = await connectTestTemporal(t, server.address, {
    stopServer: async () => {
      await server?.stop();
      server = null;
      await rm(dir, { recursive: true, force: true });
    },
  });
  return {
    ...temporal,
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
