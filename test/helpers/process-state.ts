// What /proc says of a process, for tests that check what outlives what.
import { readFile } from 'node:fs/promises';

/** Whether `pid` runs (a zombie waiting to be reaped has stopped running). */
export async function running(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  return stat !== null && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

/** The pids `pid` has started and not yet seen end (Linux: every thread's children). */
export async function childrenOf(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return text.split(' ').filter(Boolean).map(Number);
}

/** The command line `pid` runs, its arguments joined by spaces; null once it is gone. */
export async function commandLineOf(pid: number): Promise<string | null> {
  const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => null);
  return raw === null ? null : raw.split('\0').filter(Boolean).join(' ');
}
