// A server a script starts must not outlive the script. Ctrl-C and SIGTERM stop it in order, but a
// script killed outright (SIGKILL, the OOM killer) runs no handler at all, and a server in a
// process group of its own gets no signal from the script's terminal either. On Linux the kernel
// sends a child a chosen signal when its parent dies (PR_SET_PDEATHSIG); util-linux's setpriv sets
// it and then execs the server, so the server keeps its pid and its process group.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

function executableOnPath(name: string, path: string): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/**
 * `command args…` to spawn so that it receives SIGTERM when this process dies. Elsewhere than on
 * Linux, or without setpriv, it is the command unchanged (the caller's exit handler is all there is).
 */
export function withParentDeathSignal(
  command: string,
  args: readonly string[],
  { platform = process.platform, path = process.env.PATH ?? '' }: { platform?: NodeJS.Platform; path?: string } = {},
): [string, string[]] {
  const setpriv = platform === 'linux' ? executableOnPath('setpriv', path) : null;
  return setpriv ? [setpriv, ['--pdeathsig', 'TERM', '--', command, ...args]] : [command, [...args]];
}
