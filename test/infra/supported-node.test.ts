// The npm scripts run on a supported Node: on an older one (the machine's Node 20, end of life) they
// re-run themselves on the pinned LTS build instead of failing later in a dependency.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { writeExecutable } from '../helpers/fake-executables.js';

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
  t.match(stderr, /Node 20\.20\.2 is older than 22.*Node 24/, 'one line tells why another Node runs');
});

t.test('on a supported Node the command runs as it is', async (t) => {
  const { dir, path } = await pathWithNode('22.3.0');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const { stdout, stderr } = await run('bash', [wrapper, 'node', '-p', 'process.versions.node'], { env: { ...process.env, PATH: path } });
  t.equal(stdout.trim(), '22.3.0', 'PATH untouched: the fake node answered');
  t.equal(stderr, '');
});

t.test('the exit status of the command is the exit status of the wrapper', async (t) => {
  const failed = await run('bash', [wrapper, 'sh', '-c', 'exit 7']).catch((error: { code: number }) => error);
  t.equal((failed as { code: number }).code, 7);
});
