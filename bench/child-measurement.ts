// A measurement that needs a process of its own (the SDK installs its hooks once per thread, and a
// heap figure needs a heap nothing else used): the bench runs a script with `--child`, which
// prints its result as one JSON line.
import { execFile } from 'node:child_process';
import { basename } from 'node:path';
import { promisify } from 'node:util';

/** Runs `node [...nodeArgs] script --child [...childArgs]` and returns the JSON line it printed. */
export async function measureInChild<T>(
  script: string,
  { nodeArgs = [], childArgs = [], env = {} }: { nodeArgs?: string[]; childArgs?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<T> {
  const { stdout } = await promisify(execFile)(process.execPath, [...nodeArgs, script, '--child', ...childArgs], {
    env: { ...process.env, LOG_LEVEL: 'error', ...env },
  });
  const line = stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`${basename(script)} --child printed no result:\n${stdout}`);
  return JSON.parse(line) as T;
}
