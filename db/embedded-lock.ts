// Who holds the embedded database directory. One process at a time may open a PGlite directory
// (two would corrupt it), so whoever opens it writes `<dir>.lock` with its pid and, when it serves
// the directory over the wire protocol, the URL to reach it there.
import { open, readFile, rm } from 'node:fs/promises';

export interface EmbeddedLockInfo {
  pid: number;
  /** postgres:// URL of the wire-protocol server; absent while a CLI holds the directory itself. */
  url?: string;
}

export class EmbeddedDatabaseBusyError extends Error {
  readonly code = 'VF_EMBEDDED_DATABASE_BUSY';
  override readonly name = 'EmbeddedDatabaseBusyError';
}

export function lockPath(dataDir: string): string {
  return `${dataDir.replace(/\/+$/, '')}.lock`;
}

/** The live holder of `dataDir`, or null; a lock left by a process that no longer runs is removed. */
export async function readEmbeddedLock(dataDir: string): Promise<EmbeddedLockInfo | null> {
  let info: EmbeddedLockInfo;
  try {
    info = JSON.parse(await readFile(lockPath(dataDir), 'utf8')) as EmbeddedLockInfo;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    // Half-written by a holder that is starting right now: treat it as held, without a URL.
    return { pid: 0 };
  }
  if (isAlive(info.pid)) return info;
  await rm(lockPath(dataDir), { force: true });
  return null;
}

/** Takes the lock for this process; resolves to a release function. Throws when someone else holds it. */
export async function acquireEmbeddedLock(dataDir: string, url?: string): Promise<() => Promise<void>> {
  const path = lockPath(dataDir);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(JSON.stringify({ pid: process.pid, ...(url ? { url } : {}) } satisfies EmbeddedLockInfo));
      await handle.close();
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // readEmbeddedLock removes a stale lock, after which the second attempt can take it.
      const holder = await readEmbeddedLock(dataDir);
      if (holder)
        throw new EmbeddedDatabaseBusyError(
          `The embedded database ${dataDir} is in use by process ${holder.pid}${holder.url ? ` (serving ${holder.url})` : ''}; stop it first, or set DATABASE_URL.`,
        );
    }
  }
  throw new EmbeddedDatabaseBusyError(`Could not lock the embedded database ${dataDir} (${path}).`);
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
