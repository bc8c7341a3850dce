import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { BenchRun } from '../../bench/lifecycle.ts';
import { waitFor } from '../helpers/eventually.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/hard-stop-run.ts', import.meta.url));
const BODY_FAILS_FIXTURE = fileURLToPath(new URL('./fixtures/hard-stop-body-fails.ts', import.meta.url));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

t.test('a bench run past its hard stop prints what it measured, stops its processes and exits 2', async (t) => {
  const run = spawn(process.execPath, [FIXTURE], { env: { ...process.env, HARD_STOP_MS: '1500' } });
  let stdout = '';
  let stderr = '';
  run.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  run.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const [code] = (await once(run, 'exit')) as [number];
  const pid = Number(/child (\d+)/.exec(stdout)?.[1]);
  t.ok(pid > 0, 'the fixture started its child');
  t.teardown(() => void (alive(pid) && process.kill(pid, 'SIGKILL')));
  t.equal(code, 2);
  t.match(stderr, /exceeded/);
  // What was measured before the stop is not lost with the run.
  t.match(stdout, /"intake":\s*\{\s*"p99":\s*12\.5/);
  // The child ignores SIGTERM: the stop has to escalate, and must not leave it running.
  await waitFor(() => !alive(pid), 'the child to be gone', 15_000);
});

t.test('a body that fails because the hard stop is under way does not cut the stop short', async (t) => {
  const marker = join(mkdtempSync(join(tmpdir(), 'vf-bench-')), 'marker');
  const run = spawn(process.execPath, [BODY_FAILS_FIXTURE], {
    env: { ...process.env, HARD_STOP_MS: '1500', MARKER_FILE: marker },
    stdio: 'ignore',
  });
  const [code] = (await once(run, 'exit')) as [number];
  t.equal(code, 2, 'a run past its hard stop exits 2 however its body ended');
  t.ok(existsSync(marker), 'every cleanup ran before the exit');
});

t.test('a child started with a niceness runs at it, and so do the threads it starts (the SDK runs workflows on one)', async (t) => {
  const run = new BenchRun({ hardStopMs: 60_000, log: () => {} });
  const script = `
    const { Worker } = require('node:worker_threads');
    const main = require('node:os').getPriority();
    new Worker("require('node:worker_threads').parentPort.postMessage(require('node:os').getPriority())", { eval: true })
      .once('message', (thread) => console.log(JSON.stringify({ main, thread })));`;
  const { ready } = await run.child<{ main: number; thread: number }>('niced', ['-e', script], {}, { announces: true, nice: 10 });
  t.same(ready, { main: 10, thread: 10 });
});
