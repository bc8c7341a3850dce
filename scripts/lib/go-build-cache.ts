// What the Temporal CLI and the Temporal server builds share: the veriflow cache directory, a lock
// file so parallel callers build once, `go install` into a temp dir with progress lines, and
// executable lookups on PATH. Everything reads the `env` it is given, so tests can steer it.

import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const EXECUTABLE_SUFFIX = process.platform === 'win32' ? '.exe' : '';
export const BUILD_DIR_PREFIX = '.build-';
/** A cold `go install` of the server takes ~10 minutes on 2 busy cores; longer means stuck. */
const LOCK_WAIT_LIMIT_MS = 30 * 60_000;
const BUILD_HEARTBEAT_MS = 30_000;

/** `${VERIFLOW_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/veriflow}`. */
export function veriflowCacheRoot(env: NodeJS.ProcessEnv): string {
  const userCache = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return env.VERIFLOW_CACHE_DIR || join(userCache, 'veriflow');
}

export interface GoInstall {
  go: string;
  /** `module/path@version` arguments of one `go install`. */
  packages: string[];
  /** Binary name written by go install → final path; renamed in this order, so put the one `withBuildLock` checks last. */
  outputs: [string, string][];
  /** "Temporal CLI v1.5.1", for progress lines. */
  label: string;
  /** Shown in the first progress line, e.g. "~3 min". */
  expected: string;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  /** The error to throw when go exits non-zero, given its exit code. */
  failure: (exitCode: number | null) => Error;
}

/** Runs `go install` into a temp dir, then renames: a build killed halfway never leaves a binary that looks cached. */
export async function goInstall(build: GoInstall): Promise<boolean> {
  const first = build.outputs[0];
  if (!first) throw new Error('goInstall needs at least one output');
  const buildDir = await mkdtemp(join(dirname(first[1]), BUILD_DIR_PREFIX));
  build.log(`Building ${build.label} with go install (first run only, ${build.expected})…`);
  const started = Date.now();
  const heartbeat = setInterval(() => build.log(`  …still building (${Math.round((Date.now() - started) / 1000)} s)`), BUILD_HEARTBEAT_MS);
  try {
    const exitCode = await runStreaming(build.go, ['install', ...build.packages], { ...build.env, GOBIN: buildDir });
    if (exitCode !== 0) throw build.failure(exitCode);
    for (const [name, target] of build.outputs) await rename(join(buildDir, `${name}${EXECUTABLE_SUFFIX}`), target);
    build.log(`Built ${build.label} in ${Math.round((Date.now() - started) / 1000)} s: ${dirname(first[1])}`);
    return true;
  } finally {
    clearInterval(heartbeat);
    await rm(buildDir, { recursive: true, force: true });
  }
}

/**
 * Runs `produce` unless another process already produced `target`, with a lock file beside it so
 * that parallel callers wait for one build instead of each starting their own. Resolves to
 * whether `target` now exists; `giveUp` is the error when another holder never finishes.
 */
export async function withBuildLock(
  target: string,
  produce: () => Promise<boolean>,
  giveUp: (lockPath: string) => Error,
): Promise<boolean> {
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
    if (Date.now() > deadline) throw giveUp(lockPath);
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

export async function findOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, `${name}${EXECUTABLE_SUFFIX}`);
    if (await isExecutable(candidate)) return candidate;
  }
  return null;
}

export async function isExecutable(path: string): Promise<boolean> {
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
