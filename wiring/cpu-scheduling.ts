// The worker's threads under Linux's SCHED_BATCH. Where the worker shares a host with the API
// (compose, npm run dev), a workflow thread that wakes no longer preempts a request being served,
// while the worker keeps the same share of the CPU: a niceness, which lowers that share, starved the
// worker under a 500/s storm; SCHED_BATCH drained the same storm as fast (README "Worker CPU").
// Node has no call for a thread's policy, so util-linux's chrt sets it on every thread there is;
// a thread started afterwards inherits it from the thread that starts it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Puts every thread of `pid` (this process by default) under SCHED_BATCH; resolves with why not, or null once done. */
export async function runThreadsAsBatch({ pid = process.pid, platform = process.platform } = {}): Promise<string | null> {
  if (platform !== 'linux') return `SCHED_BATCH is a Linux policy and this is ${platform}`;
  try {
    await run('chrt', ['--batch', '--all-tasks', '--pid', '0', String(pid)]);
    return null;
  } catch (error) {
    return `chrt could not set it: ${(error as Error).message.trim()}`;
  }
}
