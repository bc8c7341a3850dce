import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { parse } from 'yaml';
import {
  resolveTemporalServer,
  TEMPORAL_SERVER_VERSION,
  TemporalServerBuildError,
  TemporalServerNotFoundError,
  temporalServerCachePaths,
} from '../../scripts/lib/temporal-server.ts';
import { fakeGo, writeExecutable } from '../helpers/fake-executables.ts';

// Every case builds its own world: a PATH of fake executables and a private cache dir. Nothing
// here touches the real cache or runs the real `go install`.

const quiet = { log: () => {} };
const fake = (path: string) => writeExecutable(path, '#!/bin/sh\necho fake\n');

t.test('the version built is the one docker-compose.yml runs', async (t) => {
  const compose = parse(await readFile(join(import.meta.dirname, '../../docker-compose.yml'), 'utf8')) as {
    services: Record<string, { image?: string }>;
  };
  const temporalImages = Object.values(compose.services)
    .map((s) => s.image ?? '')
    .filter((image) => /^temporalio\/(auto-setup|server|admin-tools):/.test(image));
  t.ok(
    temporalImages.some((image) => image.startsWith('temporalio/auto-setup:') || image.startsWith('temporalio/server:')),
    'compose runs a Temporal server image',
  );
  for (const image of temporalImages) t.equal(`v${image.split(':')[1]}`, TEMPORAL_SERVER_VERSION, image);
});

t.test('env variables come first, then the image names on PATH, then the cache', async (t) => {
  const dir = t.testdir();
  const env = {
    TEMPORAL_SERVER_PATH: await fake(join(dir, 'explicit', 'server')),
    PATH: dirname(await fake(join(dir, 'bin', 'temporal-sql-tool'))),
    VERIFLOW_CACHE_DIR: join(dir, 'cache'),
  };
  const cache = temporalServerCachePaths(env);
  await fake(cache.server);
  await fake(cache.sqlTool);
  t.same(await resolveTemporalServer({ env, ...quiet }), {
    server: { path: env.TEMPORAL_SERVER_PATH, source: 'env' },
    sqlTool: { path: join(dir, 'bin', 'temporal-sql-tool'), source: 'path' },
  });
  t.same(await resolveTemporalServer({ env: { PATH: '', VERIFLOW_CACHE_DIR: env.VERIFLOW_CACHE_DIR }, ...quiet }), {
    server: { path: join(dir, 'cache', 'temporal-server', TEMPORAL_SERVER_VERSION, 'server'), source: 'cache' },
    sqlTool: { path: join(dir, 'cache', 'temporal-server', TEMPORAL_SERVER_VERSION, 'sql'), source: 'cache' },
  });
});

t.test('a TEMPORAL_SQL_TOOL_PATH that is not executable is an error, not a silent fallback', async (t) => {
  const dir = t.testdir({ 'not-executable': 'just text' });
  await t.rejects(resolveTemporalServer({ env: { TEMPORAL_SQL_TOOL_PATH: join(dir, 'not-executable'), PATH: '' }, ...quiet }), {
    code: 'VF_TEMPORAL_SERVER_NOT_FOUND',
    message: /TEMPORAL_SQL_TOOL_PATH is set to .*not-executable, which is not an executable file/,
  });
});

t.test('without Go, PATH or cache the error says what to do', async (t) => {
  const dir = t.testdir();
  const env = { PATH: join(dir, 'empty-bin'), VERIFLOW_CACHE_DIR: join(dir, 'cache') };
  const error = await resolveTemporalServer({ env, ...quiet }).catch((error: unknown) => error);
  t.type(error, TemporalServerNotFoundError);
  t.match(error, { code: 'VF_TEMPORAL_SERVER_NOT_FOUND' });
  const { message } = error as Error;
  t.match(message, `Temporal server ${TEMPORAL_SERVER_VERSION} and its SQL tool not found`);
  t.match(message, 'install Go >= 1.26.8');
  t.match(message, 'npm run temporal:server:install');
  t.match(message, 'set TEMPORAL_SERVER_PATH=');
  t.match(message, temporalServerCachePaths(env).server);
});

t.test('with Go on PATH, concurrent callers share one go install of both binaries', async (t) => {
  const dir = t.testdir();
  const calls = join(dir, 'go-calls.log');
  const env = {
    PATH: dirname(await fakeGo(join(dir, 'bin', 'go'), { outputs: ['server', 'sql'] })),
    VERIFLOW_CACHE_DIR: join(dir, 'cache'),
    FAKE_GO_CALLS: calls,
  };
  const logs: string[] = [];
  const results = await Promise.all([1, 2, 3].map(() => resolveTemporalServer({ env, log: (line) => logs.push(line) })));

  const cache = temporalServerCachePaths(env);
  t.same(new Set(results.map((r) => `${r.server.path} ${r.sqlTool.path}`)), new Set([`${cache.server} ${cache.sqlTool}`]));
  t.equal(results[0]?.server.source, 'go-install');
  t.equal(
    await readFile(calls, 'utf8'),
    `install go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION} go.temporal.io/server/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}\n`,
    'one build, pinned',
  );
  t.match(logs[0], `Building Temporal server ${TEMPORAL_SERVER_VERSION} and its SQL tool with go install`);
  t.same((await readdir(dirname(cache.server))).sort(), ['server', 'sql'], 'no lock file or build dir left behind');
});

t.test('a failed build leaves nothing that looks cached', async (t) => {
  const dir = t.testdir();
  const env = {
    PATH: dirname(await fakeGo(join(dir, 'bin', 'go'), { exitCode: 3 })),
    VERIFLOW_CACHE_DIR: join(dir, 'cache'),
    FAKE_GO_CALLS: join(dir, 'go-calls.log'),
  };
  const error = await resolveTemporalServer({ env, ...quiet }).catch((error: unknown) => error);
  t.type(error, TemporalServerBuildError);
  t.match(error, { code: 'VF_TEMPORAL_SERVER_BUILD', message: /exited with 3/ });
  t.same(await readdir(dirname(temporalServerCachePaths(env).server)), []);
});

t.test('`temporal-server.ts install` prints both paths', async (t) => {
  const dir = t.testdir();
  const server = await fake(join(dir, 'server'));
  const sqlTool = await fake(join(dir, 'sql'));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(import.meta.dirname, '../../scripts/temporal-server.ts'), 'install'],
    {
      env: { ...process.env, TEMPORAL_SERVER_PATH: server, TEMPORAL_SQL_TOOL_PATH: sqlTool },
    },
  );
  t.equal(stdout, `${server}\n${sqlTool}\n`);
});
