// A server a script starts must not outlive the script. Ctrl-C and SIGTERM stop it in order, but a
// script killed outright (SIGKILL, the OOM killer) runs no handler at all, and a server in a
// process group of its own gets no signal from the script's terminal either. On Linux the kernel
// sends a child a chosen signal when its parent dies (PR_SET_PDEATHSIG); util-linux's setpriv sets
// it and then execs the server, so the server keeps its pid and its process group.
import { findOnPath } from './go-build-cache.ts';

/**
 * `command args…` to spawn so that it receives SIGTERM when this process dies. Elsewhere than on
 * Linux, or without setpriv on PATH, it is the command unchanged (the caller's exit handler is all
 * there is).
 */
export async function withParentDeathSignal(
  command: string,
  args: readonly string[],
  { platform = process.platform, env = process.env }: { platform?: NodeJS.Platform; env?: NodeJS.ProcessEnv } = {},
): Promise<[string, string[]]> {
  const setpriv = platform === 'linux' ? await findOnPath('setpriv', env) : null;
  return setpriv ? [setpriv, ['--pdeathsig', 'TERM', '--', command, ...args]] : [command, [...args]];
}
