// `npm run dev` ended from outside rather than by Ctrl-C: its terminal closed (SIGHUP to its
// process group) or everything in the group killed outright (SIGKILL). The Temporal dev server
// runs in a process group of its own (so Ctrl-C lets the worker drain against it first), so
// neither signal reaches it; it must still not outlive dev, holding its ports and database, or the
// next `npm run dev` refuses to start.
import t from 'tap';
import { DEV_STACK_PORTS, devStackEnv, portIsFree, startDev } from '../helpers/dev-process.ts';
import { eventually } from '../helpers/stack.ts';

t.setTimeout(600_000);

const portsStillTaken = async (env: Record<(typeof DEV_STACK_PORTS)[number], string>) => {
  const taken: string[] = [];
  for (const setting of DEV_STACK_PORTS) if (!(await portIsFree(env[setting]))) taken.push(`${setting} ${env[setting]}`);
  return taken;
};

t.test('a closed terminal (SIGHUP) stops the whole stack in order', async (t) => {
  const env = await devStackEnv(t.testdir());
  const dev = await startDev(t, env);
  dev.signalGroup('SIGHUP');
  await dev.exited;
  t.same(await portsStillTaken(env), [], 'every port is free again: nothing was left running');
  t.match(dev.output(), /The worker drained and stopped\./, 'the worker drained as on Ctrl-C');
});

t.test('killed outright (SIGKILL), it leaves nothing running, and the next npm run dev starts', async (t) => {
  const env = await devStackEnv(t.testdir());
  const dev = await startDev(t, env);
  dev.signalGroup('SIGKILL');
  await dev.exited;
  // The Temporal dev server stops by itself once dev is gone (a SIGTERM it asked the kernel for).
  await eventually(
    () => portsStillTaken(env),
    (taken) => taken.length === 0,
    { timeoutMs: 30_000, what: 'every port of the killed stack free' },
  );
  const again = await startDev(t, env);
  t.pass('npm run dev starts again on the same ports and data');
  again.signalGroup('SIGINT');
  const { code, signal } = await again.exited;
  t.ok(code === 0 || signal === 'SIGINT', `and stops (${JSON.stringify({ code, signal })})`);
});
