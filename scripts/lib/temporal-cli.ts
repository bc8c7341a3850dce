// Finds the Temporal CLI (it runs the dev server), building it once with Go when it is missing.
// Order: TEMPORAL_CLI_PATH, `temporal` on PATH, our cache, `go install` into the cache, the SDK's
// downloader. Everything reads the `env` it is given, so tests can steer it without touching
// process.env.

import { mkdtemp, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  BUILD_DIR_PREFIX,
  EXECUTABLE_SUFFIX,
  findOnPath,
  goInstall,
  isExecutable,
  veriflowCacheRoot,
  withBuildLock,
} from './go-build-cache.ts';
import { goToolErrors } from './go-tool.ts';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';

const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

export const {
  ToolError: TemporalCliError,
  NotFoundError: TemporalCliNotFoundError,
  BuildError: TemporalCliBuildError,
} = goToolErrors('TemporalCli', 'VF_TEMPORAL_CLI');
export type TemporalCliError = InstanceType<typeof TemporalCliError>;
export type TemporalCliNotFoundError = InstanceType<typeof TemporalCliNotFoundError>;
export type TemporalCliBuildError = InstanceType<typeof TemporalCliBuildError>;

export type TemporalCliSource = 'env' | 'path' | 'cache' | 'go-install' | 'sdk-download';

export interface TemporalCli {
  path: string;
  source: TemporalCliSource;
}

export interface ResolveTemporalCliOptions {
  env?: NodeJS.ProcessEnv;
  /** Progress lines (build and download only). Default: stderr. */
  log?: (line: string) => void;
  /**
   * Try the SDK's download from temporal.download when Go is missing. Default true; tests turn
   * it off so "nothing found" stays offline.
   */
  sdkDownload?: boolean;
}

export async function resolveTemporalCli(options: ResolveTemporalCliOptions = {}): Promise<TemporalCli> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));

  const fromEnv = env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!(await isExecutable(fromEnv))) {
      throw new TemporalCliNotFoundError(
        `TEMPORAL_CLI_PATH is set to ${fromEnv}, which is not an executable file. ` +
          'Point it at the `temporal` binary, or unset it to let veriflow find or build one.',
      );
    }
    return { path: fromEnv, source: 'env' };
  }

  const onPath = await findOnPath('temporal', env);
  if (onPath) return { path: onPath, source: 'path' };

  const cached = temporalCliCachePath(env);
  if (await isExecutable(cached)) return { path: cached, source: 'cache' };

  const go = await findOnPath('go', env);
  if (go) {
    await withBuildLock(
      cached,
      () =>
        goInstall({
          go,
          packages: [`${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`],
          outputs: [['temporal', cached]],
          label: `Temporal CLI ${TEMPORAL_CLI_VERSION}`,
          expected: '~3 min',
          env,
          log,
          failure: (exitCode) =>
            new TemporalCliBuildError(
              `go install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION} exited with ${exitCode} (its output is above). ` +
                'The CLI needs Go >= 1.23 and access to the Go module proxy; or set TEMPORAL_CLI_PATH to an existing binary.',
            ),
        }),
      giveUp,
    );
    return { path: cached, source: 'go-install' };
  }

  let downloadFailure: unknown = null;
  if (options.sdkDownload ?? true) {
    try {
      if (await withBuildLock(cached, () => downloadWithSdk(cached, log), giveUp)) {
        return { path: cached, source: 'sdk-download' };
      }
    } catch (error) {
      downloadFailure = error;
    }
  }
  throw notFound(cached, downloadFailure);
}

/**
 * `${VERIFLOW_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/veriflow}/temporal-cli/<version>/temporal`.
 * Versioned, so bumping TEMPORAL_CLI_VERSION builds anew instead of reusing an old binary.
 */
export function temporalCliCachePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(veriflowCacheRoot(env), 'temporal-cli', TEMPORAL_CLI_VERSION, `temporal${EXECUTABLE_SUFFIX}`);
}

function giveUp(lockPath: string): TemporalCliBuildError {
  return new TemporalCliBuildError(
    `Gave up waiting for another process building the Temporal CLI (lock ${lockPath}). ` +
      'If no build is running, delete the lock file and try again.',
  );
}

function notFound(cachePath: string, downloadFailure: unknown): TemporalCliNotFoundError {
  const lines = [
    `Temporal CLI ${TEMPORAL_CLI_VERSION} not found ` + `(looked at TEMPORAL_CLI_PATH, \`temporal\` on PATH, and ${cachePath}).`,
    'Do one of:',
    '  - install Go >= 1.23 (https://go.dev/dl/) and run `npm run temporal:install`: ' + `it builds the CLI once into ${cachePath};`,
    '  - set TEMPORAL_CLI_PATH=/path/to/temporal;',
    '  - put `temporal` on PATH (https://docs.temporal.io/cli#install).',
  ];
  if (downloadFailure) lines.push(`(Also tried: ${messageOf(downloadFailure)})`);
  return new TemporalCliNotFoundError(lines.join('\n'), downloadFailure ? { cause: downloadFailure } : undefined);
}

// The SDK (@temporalio/testing, a dev dependency) downloads the CLI only as a side effect of
// starting a server, so start one, stop it, and keep the binary. Returns false when the package
// is not installed (production installs skip dev dependencies).
async function downloadWithSdk(target: string, log: (line: string) => void): Promise<boolean> {
  let testing: typeof import('@temporalio/testing');
  try {
    testing = await import('@temporalio/testing');
  } catch {
    return false;
  }
  const downloadDir = await mkdtemp(join(dirname(target), BUILD_DIR_PREFIX));
  log(`Downloading Temporal CLI ${TEMPORAL_CLI_VERSION} through the Temporal SDK (temporal.download)…`);
  try {
    const environment = await testing.TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'cached-download', downloadDir, version: TEMPORAL_CLI_VERSION },
        ip: '127.0.0.1',
        log: { format: 'pretty', level: 'error' },
      },
    });
    await environment.teardown();
    // sdk-core names the download `temporal-<version>` inside downloadDir.
    await rename(join(downloadDir, `temporal-${TEMPORAL_CLI_VERSION}${EXECUTABLE_SUFFIX}`), target);
    return true;
  } catch (error) {
    throw new TemporalCliBuildError(`downloading the CLI through the Temporal SDK failed: ${messageOf(error)}`, {
      cause: error,
    });
  } finally {
    await rm(downloadDir, { recursive: true, force: true });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
