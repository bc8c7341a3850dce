import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import {
  resolveTemporalCli,
  TEMPORAL_CLI_VERSION,
  TemporalCliBuildError,
  TemporalCliNotFoundError,
  temporalCliCachePath,
} from '../../scripts/lib/temporal-cli.ts';
import { fakeGo, writeExecutable } from '../helpers/fake-executables.ts';

// Every case builds its own world: a PATH of fake executables and a private cache dir. Nothing
// here touches the real cache or runs the real `go install`.

const quiet = { log: () => {}, sdkDownload: false };

const fakeTemporal = (path: string) => writeExecutable(path, '#!/bin/sh\necho fake temporal\n');

t.test('TEMPORAL_CLI_PATH comes first', async (t) => {
  const dir = t.testdir();
  const env = {
    TEMPORAL_CLI_PATH: await fakeTemporal(join(dir, 'explicit', 'temporal')),
    PATH: dirname(await fakeTemporal(join(dir, 'bin', 'temporal'))),
    VERIFLOW_CACHE_DIR: join(dir, 'cache'),
  };
  await fakeTemporal(temporalCliCachePath(env));
  t.same(await resolveTemporalCli({ env, ...quiet }), { path: env.TEMPORAL_CLI_PATH, source: 'env' });
});

t.test('a TEMPORAL_CLI_PATH that is not executable is an error, not a silent fallback', async (t) => {
  const dir = t.testdir({ 'not-executable': 'just text' });
  const env = { TEMPORAL_CLI_PATH: join(dir, 'not-executable'), PATH: '' };
  await t.rejects(resolveTemporalCli({ env, ...quiet }), {
    code: 'VF_TEMPORAL_CLI_NOT_FOUND',
    message: /TEMPORAL_CLI_PATH is set to .*not-executable, which is not an executable file/,
  });
});

t.test('`temporal` on PATH comes before the cache', async (t) => {
  const dir = t.testdir();
  const onPath = await fakeTemporal(join(dir, 'bin', 'temporal'));
  const env = { PATH: `${join(dir, 'empty')}:${dirname(onPath)}`, VERIFLOW_CACHE_DIR: join(dir, 'cache') };
  await fakeTemporal(temporalCliCachePath(env));
  t.same(await resolveTemporalCli({ env, ...quiet }), { path: onPath, source: 'path' });
});

t.test('the cached build is used when nothing else is configured', async (t) => {
  const dir = t.testdir();
  const env = { PATH: '', VERIFLOW_CACHE_DIR: join(dir, 'cache') };
  const cached = await fakeTemporal(temporalCliCachePath(env));
  t.equal(cached, join(dir, 'cache', 'temporal-cli', TEMPORAL_CLI_VERSION, 'temporal'));
  t.same(await resolveTemporalCli({ env, ...quiet }), { path: cached, source: 'cache' });
});

t.test('the cache lives under XDG_CACHE_HOME, else ~/.cache', async (t) => {
  t.equal(temporalCliCachePath({ XDG_CACHE_HOME: '/xdg' }), `/xdg/veriflow/temporal-cli/${TEMPORAL_CLI_VERSION}/temporal`);
  t.equal(temporalCliCachePath({ HOME: '/home/dev' }), `/home/dev/.cache/veriflow/temporal-cli/${TEMPORAL_CLI_VERSION}/temporal`);
});

t.test('without Go, PATH or cache the error says what to do', async (t) => {
  const dir = t.testdir();
  const env = { PATH: join(dir, 'empty-bin'), VERIFLOW_CACHE_DIR: join(dir, 'cache') };
  const error = await resolveTemporalCli({ env, ...quiet }).catch((error: unknown) => error);
  t.type(error, TemporalCliNotFoundError);
  const { code, message } = error as TemporalCliNotFoundError;
  t.equal(code, 'VF_TEMPORAL_CLI_NOT_FOUND');
  t.match(message, `Temporal CLI ${TEMPORAL_CLI_VERSION} not found`);
  t.match(message, 'install Go >= 1.23');
  t.match(message, 'set TEMPORAL_CLI_PATH=');
  t.match(message, 'put `temporal` on PATH');
  t.match(message, temporalCliCachePath(env));
});

t.test('with Go on PATH, concurrent callers share one build into the cache', async (t) => {
  const dir = t.testdir();
  const calls = join(dir, 'go-calls.log');
  const env = {
    PATH: dirname(await fakeGo(join(dir, 'bin', 'go'))),
    VERIFLOW_CACHE_DIR: join(dir, 'cache'),
    FAKE_GO_CALLS: calls,
  };
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);

  const results = await Promise.all([1, 2, 3].map(() => resolveTemporalCli({ env, log, sdkDownload: false })));

  const cached = temporalCliCachePath(env);
  t.same(new Set(results.map((result) => result.path)), new Set([cached]));
  t.equal(results[0]?.source, 'go-install');
  t.equal(await readFile(calls, 'utf8'), `install github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}\n`);
  t.match(logs[0], `Building Temporal CLI ${TEMPORAL_CLI_VERSION} with go install (first run only, ~3 min)…`);
  t.same(await readdir(dirname(cached)), ['temporal'], 'no lock file or build dir left behind');
});

t.test('a failed build leaves nothing that looks cached', async (t) => {
  const dir = t.testdir();
  const env = {
    PATH: dirname(await fakeGo(join(dir, 'bin', 'go'), { exitCode: 3 })),
    VERIFLOW_CACHE_DIR: join(dir, 'cache'),
    FAKE_GO_CALLS: join(dir, 'go-calls.log'),
  };
  const error = await resolveTemporalCli({ env, ...quiet }).catch((error: unknown) => error);
  t.type(error, TemporalCliBuildError);
  t.match(error, { code: 'VF_TEMPORAL_CLI_BUILD', message: /exited with 3/ });
  t.same(await readdir(dirname(temporalCliCachePath(env))), []);
});

t.test('a lock left by a killed build is taken over, and its half-built output removed', async (t) => {
  const dir = t.testdir();
  const env = {
    PATH: dirname(await fakeGo(join(dir, 'bin', 'go'))),
    VERIFLOW_CACHE_DIR: join(dir, 'cache'),
    FAKE_GO_CALLS: join(dir, 'go-calls.log'),
  };
  const cached = temporalCliCachePath(env);
  const exited = spawn(process.execPath, ['-e', '']);
  await once(exited, 'exit');
  await mkdir(join(dirname(cached), '.build-killed'), { recursive: true });
  await writeFile(join(dirname(cached), '.build-killed', 'temporal'), 'half a binary');
  await writeFile(`${cached}.lock`, String(exited.pid));

  t.same(await resolveTemporalCli({ env, ...quiet }), { path: cached, source: 'go-install' });
  t.same(await readdir(dirname(cached)), ['temporal']);
});

t.test('`temporal-cli.ts install` prints the resolved path', async (t) => {
  const fake = await fakeTemporal(join(t.testdir(), 'temporal'));
  const { stdout } = await promisify(execFile)(process.execPath, [join(import.meta.dirname, '../../scripts/temporal-cli.ts'), 'install'], {
    env: { ...process.env, TEMPORAL_CLI_PATH: fake },
  });
  t.equal(stdout, `${fake}\n`);
});
