// Finds the Temporal server and its SQL schema tool (what a real cluster on PostgreSQL runs),
// building both once with Go when missing. Per binary the order is: its env variable
// (TEMPORAL_SERVER_PATH, TEMPORAL_SQL_TOOL_PATH), its name on PATH as Temporal's images call it
// (`temporal-server`, `temporal-sql-tool`), our cache; then one `go install` of both into the cache.

import { join } from 'node:path';
import { EXECUTABLE_SUFFIX, findOnPath, goInstall, isExecutable, veriflowCacheRoot, withBuildLock } from './go-build-cache.ts';
import { goToolErrors } from './go-tool.ts';

/**
 * The version docker-compose.yml runs (temporalio/server and admin-tools 1.32.1); a test keeps them
 * equal. It has upgrade on continue-as-new for pinned workflows (README "Upgrading"), which 1.29.1
 * (the dev server of CLI v1.5.1) lacks; v1.32.2 needs Go 1.26.10, newer than our machines' Go.
 */
export const TEMPORAL_SERVER_VERSION = 'v1.32.1';

const SERVER_MODULE = 'go.temporal.io/server';
const PACKAGES = {
  server: { package: `${SERVER_MODULE}/cmd/server`, envVar: 'TEMPORAL_SERVER_PATH', onPath: 'temporal-server' },
  sqlTool: { package: `${SERVER_MODULE}/cmd/tools/sql`, envVar: 'TEMPORAL_SQL_TOOL_PATH', onPath: 'temporal-sql-tool' },
} as const;

export const {
  ToolError: TemporalServerError,
  NotFoundError: TemporalServerNotFoundError,
  BuildError: TemporalServerBuildError,
} = goToolErrors('TemporalServer', 'VF_TEMPORAL_SERVER');
export type TemporalServerError = InstanceType<typeof TemporalServerError>;
export type TemporalServerNotFoundError = InstanceType<typeof TemporalServerNotFoundError>;
export type TemporalServerBuildError = InstanceType<typeof TemporalServerBuildError>;

export type TemporalBinarySource = 'env' | 'path' | 'cache' | 'go-install';

export interface TemporalBinary {
  path: string;
  source: TemporalBinarySource;
}

export interface TemporalServerBinaries {
  server: TemporalBinary;
  sqlTool: TemporalBinary;
}

export interface ResolveTemporalServerOptions {
  env?: NodeJS.ProcessEnv;
  /** Progress lines of the build. Default: stderr. */
  log?: (line: string) => void;
}

export async function resolveTemporalServer(options: ResolveTemporalServerOptions = {}): Promise<TemporalServerBinaries> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const cache = temporalServerCachePaths(env);
  const server = await findBinary('server', cache.server, env);
  const sqlTool = await findBinary('sqlTool', cache.sqlTool, env);
  if (server && sqlTool) return { server, sqlTool };

  const go = await findOnPath('go', env);
  if (!go) throw notFound(cache);
  await withBuildLock(
    cache.server,
    () =>
      goInstall({
        go,
        packages: Object.values(PACKAGES).map((p) => `${p.package}@${TEMPORAL_SERVER_VERSION}`),
        // The server last: the lock treats its presence as "the build is complete".
        outputs: [
          ['sql', cache.sqlTool],
          ['server', cache.server],
        ],
        label: `Temporal server ${TEMPORAL_SERVER_VERSION} and its SQL tool`,
        expected: '~5-15 min',
        env,
        log,
        failure: (exitCode) =>
          new TemporalServerBuildError(
            `go install ${SERVER_MODULE}/cmd/server@${TEMPORAL_SERVER_VERSION} (and cmd/tools/sql) exited with ${exitCode} ` +
              '(its output is above). It needs Go >= 1.26.8 and access to the Go module proxy; or set ' +
              'TEMPORAL_SERVER_PATH and TEMPORAL_SQL_TOOL_PATH to existing binaries.',
          ),
      }),
    (lockPath) =>
      new TemporalServerBuildError(
        `Gave up waiting for another process building the Temporal server (lock ${lockPath}). ` +
          'If no build is running, delete the lock file and try again.',
      ),
  );
  const built: TemporalBinary = { path: cache.server, source: 'go-install' };
  return {
    server: server ?? built,
    sqlTool: sqlTool ?? { path: cache.sqlTool, source: 'go-install' },
  };
}

/** `<veriflow cache>/temporal-server/<version>/{server,sql}`, the names `go install` gives them. */
export function temporalServerCachePaths(env: NodeJS.ProcessEnv = process.env): { server: string; sqlTool: string } {
  const dir = join(veriflowCacheRoot(env), 'temporal-server', TEMPORAL_SERVER_VERSION);
  return { server: join(dir, `server${EXECUTABLE_SUFFIX}`), sqlTool: join(dir, `sql${EXECUTABLE_SUFFIX}`) };
}

async function findBinary(which: keyof typeof PACKAGES, cached: string, env: NodeJS.ProcessEnv): Promise<TemporalBinary | null> {
  const { envVar, onPath } = PACKAGES[which];
  const fromEnv = env[envVar];
  if (fromEnv) {
    if (!(await isExecutable(fromEnv))) {
      throw new TemporalServerNotFoundError(
        `${envVar} is set to ${fromEnv}, which is not an executable file. ` +
          `Point it at the \`${onPath}\` binary, or unset it to let veriflow find or build one.`,
      );
    }
    return { path: fromEnv, source: 'env' };
  }
  const found = await findOnPath(onPath, env);
  if (found) return { path: found, source: 'path' };
  if (await isExecutable(cached)) return { path: cached, source: 'cache' };
  return null;
}

function notFound(cache: { server: string; sqlTool: string }): TemporalServerNotFoundError {
  return new TemporalServerNotFoundError(
    [
      `Temporal server ${TEMPORAL_SERVER_VERSION} and its SQL tool not found ` +
        `(looked at TEMPORAL_SERVER_PATH / TEMPORAL_SQL_TOOL_PATH, \`temporal-server\` / \`temporal-sql-tool\` on PATH, and ${cache.server} / ${cache.sqlTool}).`,
      'Do one of:',
      `  - install Go >= 1.26.8 (https://go.dev/dl/) and run \`npm run temporal:server:install\`: it builds both once into the cache;`,
      '  - set TEMPORAL_SERVER_PATH=/path/to/temporal-server and TEMPORAL_SQL_TOOL_PATH=/path/to/temporal-sql-tool;',
      '  - put `temporal-server` and `temporal-sql-tool` on PATH (both ship in the temporalio/server and temporalio/admin-tools images).',
    ].join('\n'),
  );
}
