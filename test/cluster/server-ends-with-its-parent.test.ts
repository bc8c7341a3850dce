// The cluster's server is a process of its own holding loopback ports and connections to its
// databases. A script that started it and is then killed outright (SIGKILL, the OOM killer, tap's
// timeout) runs no exit handler, so the kernel has to stop the server: nothing else will.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import postgres from 'postgres';
import t from 'tap';
import { DEFAULT_CLUSTER_POSTGRES_URL } from '../../scripts/lib/temporal-cluster.ts';
import { eventually } from '../helpers/eventually.ts';
import { childrenOf, commandLineOf, running } from '../helpers/process-state.ts';

t.test('a cluster whose starter is killed outright stops its server', async (t) => {
  const suffix = `orphan_${randomBytes(3).toString('hex')}`;
  const postgresUrl = process.env.TEMPORAL_CLUSTER_POSTGRES_URL ?? DEFAULT_CLUSTER_POSTGRES_URL;
  const moduleUrl = new URL('../../scripts/lib/temporal-cluster.ts', import.meta.url).href;
  const starter = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { startTemporalCluster } from ${JSON.stringify(moduleUrl)};
       const cluster = await startTemporalCluster({ suffix: ${JSON.stringify(suffix)}, log: () => {} });
       console.log(cluster.configDir);
       setInterval(() => {}, 60_000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let serverPid = 0;
  let configDir = '';
  t.teardown(async () => {
    starter.kill('SIGKILL');
    if (serverPid && (await running(serverPid))) process.kill(serverPid, 'SIGKILL');
    const sql = postgres(postgresUrl, { max: 1, onnotice: () => {} });
    for (const name of [`vf_temporal_${suffix}`, `vf_temporal_visibility_${suffix}`]) {
      await sql`drop database if exists ${sql(name)} with (force)`;
    }
    await sql.end();
    if (configDir) await rm(configDir, { recursive: true, force: true });
  });

  const [line] = (await once(starter.stdout!, 'data')) as [Buffer];
  configDir = line.toString().trim();
  for (const pid of await childrenOf(starter.pid!)) {
    if ((await commandLineOf(pid))?.includes(configDir)) serverPid = pid;
  }
  t.ok(serverPid > 0 && (await running(serverPid)), `the server runs (pid ${serverPid}, config ${configDir})`);

  starter.kill('SIGKILL');
  await eventually(
    () => running(serverPid),
    (alive) => !alive,
    { timeoutMs: 60_000, intervalMs: 250, what: 'the server stopped after its starter was killed' },
  );
  t.pass('the server stopped with its starter');
});
