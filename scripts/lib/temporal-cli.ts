// Finds the Temporal CLI (it runs the dev server), building it once with Go when it is missing.
// Order: TEMPORAL_CLI_PATH, `temporal` on PATH, our cache, `go install` into the cache, the SDK's
// downloader. Everything reads the `env` it is given, so tests can steer it without touching
// process.env.

import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';

const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
const EXECUTABLE_SUFFIX = process.platform === 'win32' ? '.exe' : '';
const BUILD_DIR_PREFIX = '.build-';
/** A cold `go install` takes about 3 minutes; waiting longer than this means something is stuck. */
const LOCK_WAIT_LIMIT_MS = 20 * 60_000;
const BUILD_HEARTBEAT_MS = 30_000;

export class TemporalCliError extends Error {
  readonly code: string = 'VF_TEMPORAL_CLI';
}

/** No binary anywhere and no way to make one. The message lists what the user can do. */
export class TemporalCliNotFoundError extends TemporalCliError {
  override readonly code = 'VF_TEMPORAL_CLI_NOT_FOUND';
  override readonly name = 'TemporalCliNotFoundError';
}

/** `go install` (or the SDK download) ran and failed. */
export class TemporalCliBuildError extends TemporalCliError {
  override readonly code = 'VF_TEMPORAL_CLI_BUILD';
  override readonly name = 'TemporalCliBuildError';
}

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

  const onPath = await findOnPath(`temporal${EXECUTABLE_SUFFIX}`, env);
  if (onPath) return { path: onPath, source: 'path' };

  const cached = temporalCliCachePath(env);
  if (await isExecutable(cached)) return { path: cached, source: 'cache' };

  const go = await findOnPath(`go${EXECUTABLE_SUFFIX}`, env);
  if (go) {
    await withBuildLock(cached, () => buildWithGo(go, cached, env, log));
    return { path: cached, source: 'go-install' };
  }

  let downloadFailure: unknown = null;
  if (options.sdkDownload ?? true) {
    try {
      if (await withBuildLock(cached, () => downloadWithSdk(cached, log))) {
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
  const userCache = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  const cacheRoot = env.VERIFLOW_CACHE_DIR || join(userCache, 'veriflow');
  return join(cacheRoot, 'temporal-cli', TEMPORAL_CLI_VERSION, `temporal${EXECUTABLE_SUFFIX}`);
}

function notFound(cachePath: string, downloadFailure: unknown): TemporalCliNotFoundError {
  const lines = [
    `Temporal CLI ${TEMPORAL_CLI_VERSION} not found ` +
      `(looked at TEMPORAL_CLI_PATH, \`temporal\` on PATH, and ${cachePath}).`,
    'Do one of:',
    '  - install Go >= 1.23 (https://go.dev/dl/) and run `npm run temporal:install`: ' +
      `it builds the CLI once into ${cachePath};`,
    '  - set TEMPORAL_CLI_PATH=/path/to/temporal;',
    '  - put `temporal` on PATH (https://docs.temporal.io/cli#install).',
  ];
  if (downloadFailure) lines.push(`(Also tried: ${messageOf(downloadFailure)})`);
  return new TemporalCliNotFoundError(lines.join('\n'), downloadFailure ? { cause: downloadFailure } : undefined);
}

async function buildWithGo(
  go: string,
  target: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<boolean> {
  // Into a temp dir, then rename: a build killed halfway must never leave a binary that looks cached.
  const buildDir = await mkdtemp(join(dirname(target), BUILD_DIR_PREFIX));
  log(`Building Temporal CLI ${TEMPORAL_CLI_VERSION} with go install (first run only, ~3 min)…`);
  const started = Date.now();
  const heartbeat = setInterval(
    () => log(`  …still building (${Math.round((Date.now() - started) / 1000)} s)`),
    BUILD_HEARTBEAT_MS,
  );
  try {
    const exitCode = await runStreaming(go, ['install', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], {
      ...env,
      GOBIN: buildDir,
    });
    if (exitCode !== 0) {
      throw new TemporalCliBuildError(
        `go install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION} exited with ${exitCode} (its output is above). ` +
          'The CLI needs Go >= 1.23 and access to the Go module proxy; or set TEMPORAL_CLI_PATH to an existing binary.',
      );
    }
    await rename(join(buildDir, `temporal${EXECUTABLE_SUFFIX}`), target);
    log(`Built Temporal CLI in ${Math.round((Date.now() - started) / 1000)} s: ${target}`);
    return true;
  } finally {
    clearInterval(heartbeat);
    await rm(buildDir, { recursive: true, force: true });
  }
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

/**
 * Runs `produce` unless another process already produced `target`, with a lock file beside it so
 * that parallel test files wait for one build instead of each starting their own. Resolves to
 * whether `target` now exists.
 */
async function withBuildLock(target: string, produce: () => Promise<boolean>): Promise<boolean> {
  const dir = dirname(target);
  await mkdir(dir, { recursive: true });
  const lockPath = `${target}.lock`;
  const deadline = Date.now() + LOCK_WAIT_LIMIT_MS;
  for (;;) {
    if (await isExecutable(target)) return true;
    const lock = await tryCreateLock(lockPath);
    if (lock) {
      try {
        // Re-check under the lock: the previous holder may have finished between our two looks.
        if (await isExecutable(target)) return true;
        await removeAbandonedBuilds(dir);
        return await produce();
      } finally {
        await rm(lockPath, { force: true });
      }
    }
    if (await isLockAbandoned(lockPath)) {
      await rm(lockPath, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new TemporalCliBuildError(
        `Gave up waiting for another process building the Temporal CLI (lock ${lockPath}). ` +
          'If no build is running, delete the lock file and try again.',
      );
    }
    await sleep(500);
  }
}

async function tryCreateLock(lockPath: string): Promise<boolean> {
  try {
    const handle = await open(lockPath, 'wx');
    await handle.writeFile(String(process.pid));
    await handle.close();
    return true;
  } catch (error) {
    if (isErrnoException(error) && error.code === 'EEXIST') return false;
    throw error;
  }
}

/** The lock names its holder's pid; a holder that no longer exists was killed mid-build. */
async function isLockAbandoned(lockPath: string): Promise<boolean> {
  let pid: number;
  try {
    pid = Number.parseInt(await readFile(lockPath, 'utf8'), 10);
  } catch {
    return false; // released meanwhile, or being written: look again next round
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return isErrnoException(error) && error.code === 'ESRCH';
  }
}

/** Temp dirs of builds that were killed; only called while holding the lock. */
async function removeAbandonedBuilds(dir: string): Promise<void> {
  for (const entry of await readdir(dir)) {
    if (entry.startsWith(BUILD_DIR_PREFIX)) await rm(join(dir, entry), { recursive: true, force: true });
  }
}

function runStreaming(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number | null> {
  return new Promise((resolve, reject) => {
    // Go's own output (module downloads, compile errors) goes straight to the user's terminal.
    const child = spawn(command, args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}

async function findOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return null;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
