import { spawn } from 'node:child_process';
import { once } from 'node:events';
import t from 'tap';
import { withParentDeathSignal } from '../../scripts/lib/parent-death-signal.ts';
import { eventually } from '../helpers/eventually.ts';
import { running } from '../helpers/process-state.ts';

t.test('on Linux the command runs under setpriv, which asks for SIGTERM when the parent dies', async (t) => {
  t.same(await withParentDeathSignal('temporal', ['server', 'start-dev'], { platform: 'linux', env: { PATH: '/nowhere:/usr/bin:/bin' } }), [
    '/usr/bin/setpriv',
    ['--pdeathsig', 'TERM', '--', 'temporal', 'server', 'start-dev'],
  ]);
});

t.test('elsewhere, or without setpriv, the command is unchanged', async (t) => {
  t.same(await withParentDeathSignal('temporal', ['a'], { platform: 'darwin', env: { PATH: '/usr/bin:/bin' } }), ['temporal', ['a']]);
  t.same(await withParentDeathSignal('temporal', ['a'], { platform: 'linux', env: { PATH: t.testdir() } }), ['temporal', ['a']]);
});

t.test('a command started that way does not outlive a parent killed outright', async (t) => {
  const moduleUrl = new URL('../../scripts/lib/parent-death-signal.ts', import.meta.url).href;
  // The parent starts the command in a process group of its own, as npm run dev starts the
  // Temporal dev server, so no signal sent to the parent's group reaches it.
  const parent = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { spawn } from 'node:child_process';
       import { withParentDeathSignal } from ${JSON.stringify(moduleUrl)};
       const [command, args] = await withParentDeathSignal('sleep', ['600']);
       console.log(spawn(command, args, { stdio: 'ignore', detached: true }).pid);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [line] = (await once(parent.stdout!, 'data')) as [Buffer];
  const pid = Number(line.toString().trim());
  t.teardown(() => {
    if (pid > 0) process.kill(pid, 'SIGKILL');
  });
  t.ok(await running(pid), `the command runs (pid ${pid})`);
  parent.kill('SIGKILL');
  await eventually(
    () => running(pid),
    (alive) => !alive,
    { timeoutMs: 10_000, what: 'the command stopped after its parent was killed' },
  );
  t.pass('the command stopped with its parent');
});
