// `npm run test:cluster`: one Temporal cluster on PostgreSQL for the whole run, then tap (one file
// at a time: they share the cluster, and one of them restarts it) on the files that prove the
// production shape against it. The files reach the cluster through TEMPORAL_TEST_ADDRESS and
// restart it through a loopback control endpoint (TEMPORAL_TEST_CONTROL_URL).
import { once } from 'node:events';
import { createServer } from 'node:http';
import { startTemporalCluster } from '../../scripts/lib/temporal-cluster.ts';
import { resolveTemporalServer } from '../../scripts/lib/temporal-server.ts';
import { runTap } from '../helpers/run-tap.ts';
const FILES = [
  'test/integration/persona-flow.test.ts',
  'test/integration/webhook-concurrent-duplicates.test.ts',
  'test/integration/temporal-restart.test.ts',
  'test/integration/eager-activities.test.ts',
  'test/cluster/cluster.test.ts',
  'test/cluster/worker-versioning.test.ts',
  'test/cluster/scale-out.test.ts',
  'test/cluster/server-ends-with-its-parent.test.ts',
];

const log = (line: string) => process.stderr.write(`[test:cluster] ${line}\n`);

async function main(): Promise<number> {
  const resolveStarted = Date.now();
  const binaries = await resolveTemporalServer();
  log(`server ${binaries.server.path} (${binaries.server.source}), sql tool ${binaries.sqlTool.path}: ${Date.now() - resolveStarted} ms`);
  const cluster = await startTemporalCluster({ binaries, log });
  const control = createServer((request, response) => {
    const action = request.method === 'POST' ? request.url : null;
    const run = action === '/stop' ? cluster.stopServer() : action === '/start' ? cluster.startServer() : null;
    if (!run) {
      response.writeHead(404).end('POST /stop or /start');
      return;
    }
    const started = Date.now();
    run.then(
      () => {
        log(`cluster ${action!.slice(1)}: ${Date.now() - started} ms`);
        response.writeHead(204).end();
      },
      (error: unknown) => response.writeHead(500).end(error instanceof Error ? error.message : String(error)),
    );
  });
  control.listen(0, '127.0.0.1');
  await once(control, 'listening');
  const { port } = control.address() as { port: number };

  const suiteStarted = Date.now();
  try {
    const { code, signal } = await runTap(['--jobs=1', ...process.argv.slice(2), ...FILES], {
      TEMPORAL_TEST_ADDRESS: cluster.address,
      TEMPORAL_TEST_CONTROL_URL: `http://127.0.0.1:${port}`,
      TEMPORAL_TEST_CLUSTER_DATABASE_URL: Object.assign(new URL(cluster.postgresUrl), { pathname: `/${cluster.databases.persistence}` })
        .href,
    });
    log(
      `schemas ${cluster.timings.schemaMs} ms, cluster start ${cluster.timings.startMs} ms, suite ${Date.now() - suiteStarted} ms (tap ${signal ?? `exit ${code}`})`,
    );
    return code;
  } finally {
    control.close();
    await cluster.destroy();
  }
}

process.exitCode = await main();
