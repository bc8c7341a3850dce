// SIGTERM to real processes: the API stops in order and exits 0 well within SHUTDOWN_DEADLINE;
// a close that hangs is ended by the deadline, or at once by a second signal, each exiting 1
// with a log line saying why.
import { fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.ts';
import { startApiProcess } from '../helpers/api-process.ts';
import { startStack } from '../helpers/stack.ts';
import { DEV_CHILD_ENV } from '../../wiring/graceful-exit.ts';

const HANGING = fileURLToPath(new URL('../fixtures/hanging-close.ts', import.meta.url));
const DEV_CHILD = fileURLToPath(new URL('../fixtures/dev-child.ts', import.meta.url));

const messages = (log: string) =>
  log
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { msg: string }).msg);

t.test('the API on SIGTERM: stops accepting, closes, exits 0 before the deadline', async (t) => {
  const stack = await startStack(t, { worker: false });
  const deadlineMs = 30_000;
  const api = await startApiProcess(t, stack.env, { PORT: String(await pickFreePort()), SHUTDOWN_DEADLINE: `${deadlineMs}ms` });
  const started = Date.now();
  process.kill(api.pid, 'SIGTERM');
  t.equal(await api.exited, 'exit code 0', 'a clean exit');
  const elapsed = Date.now() - started;
  t.ok(elapsed < deadlineMs, `within the deadline (${elapsed} ms)`);
  const log = messages(api.output());
  const shuttingDown = log.indexOf('shutting down');
  t.ok(shuttingDown >= 0, 'says it is shutting down');
  t.ok(log.indexOf('shut down') > shuttingDown, 'then that it is done');
  t.notOk(
    log.some((msg) => /deadline|second signal/.test(msg)),
    'no forced exit',
  );
  await t.rejects(fetch(`${api.url}/health/live`), 'no longer accepting');
});

async function startHanging(t: Pick<Test, 'teardown'>, deadlineMs: number) {
  const child = spawn(process.execPath, [HANGING, String(deadlineMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const stdout: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => stdout.push(chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    const check = () => (stdout.join('').includes('ready\n') ? resolve() : undefined);
    child.stdout.on('data', check);
    child.once('exit', () => reject(new Error(`fixture exited early:\n${stdout.join('')}`)));
  });
  return { child, exited, output: () => stdout.join('') };
}

t.test('a close that hangs: the deadline ends the process with exit 1 and a log line', async (t) => {
  const deadlineMs = 1_500;
  const hanging = await startHanging(t, deadlineMs);
  const started = Date.now();
  hanging.child.kill('SIGTERM');
  t.equal(await hanging.exited, 1);
  const elapsed = Date.now() - started;
  t.ok(elapsed >= deadlineMs, `not before the deadline (${elapsed} ms)`);
  t.ok(elapsed < deadlineMs + 10_000, `soon after it (${elapsed} ms)`);
  t.same(messages(hanging.output()), ['shutting down', 'shutdown deadline passed: exiting now']);
});

t.test('a close that hangs: a second signal ends the process at once', async (t) => {
  const hanging = await startHanging(t, 120_000);
  hanging.child.kill('SIGTERM');
  // The second signal only after the first was handled, as an operator would send it.
  while (!messages(hanging.output()).includes('shutting down')) await new Promise((resolve) => hanging.child.stdout.once('data', resolve));
  hanging.child.kill('SIGINT');
  t.equal(await hanging.exited, 1);
  t.same(messages(hanging.output()), ['shutting down', 'second signal while shutting down: exiting now']);
});

// A child of `npm run dev` ignores the terminal's SIGINT and waits for dev's SIGTERM; when dev dies
// without sending one (SIGKILL, a crash), nobody else would stop it.
async function forkDevChild(t: Pick<Test, 'teardown'>, env: Record<string, string>) {
  const child = fork(DEV_CHILD, [], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = once(child, 'exit');
  await once(child, 'message');
  return { child, exited, output: () => output };
}

t.test('a process forked by npm run dev shuts down cleanly when dev goes away', async (t) => {
  const { child, exited, output } = await forkDevChild(t, { [DEV_CHILD_ENV]: '1' });
  child.disconnect();
  t.same(await exited, [0, null], 'exit 0');
  t.same(messages(output()), ['shutting down', 'shut down'], output());
  t.match(output(), /"signal":"SIGTERM"/, 'as on the SIGTERM dev would have sent');
});

// A process manager that forks with an IPC channel too (PM2) stops its processes with SIGINT.
t.test('a process forked by anything else still stops on SIGINT', async (t) => {
  const { child, exited, output } = await forkDevChild(t, {});
  child.kill('SIGINT');
  t.same(await exited, [0, null], 'exit 0');
  t.match(output(), /"signal":"SIGINT"/);
});
