// The production API entry (api/server.ts: HTTP API and webhook sweeper) in its own process, for
// tests that run several replicas. Resolves once /health/live answers; killed at teardown.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import type { Env } from '../../config/env.ts';
import { eventually } from './stack.ts';

const ENTRY = fileURLToPath(new URL('../../api/server.ts', import.meta.url));

export interface ApiProcess {
  url: string;
  pid: number;
  /** Its log so far (pino JSON lines on stdout). */
  output(): string;
  /** How it ended: the signal's name or `exit code N`. */
  exited: Promise<string>;
}

export async function startApiProcess(t: Pick<Test, 'teardown'>, env: Env, overrides: Record<string, string>): Promise<ApiProcess> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries({ ...env, ...overrides })) if (value !== undefined) childEnv[key] = String(value);
  const child = spawn(process.execPath, [ENTRY], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const stdout: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => stdout.push(chunk));
  const exited = new Promise<string>((resolve) => child.once('close', (code, signal) => resolve(signal ?? `exit code ${code}`)));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  const url = `http://127.0.0.1:${childEnv.PORT}`;
  // A timeout becomes this function's own error below, which carries the process's stderr.
  const live = await eventually(
    () =>
      child.exitCode !== null
        ? Promise.resolve(-1)
        : fetch(`${url}/health/live`).then(
            (r) => r.status,
            () => 0,
          ),
    (status) => status === 200 || status === -1,
    { timeoutMs: 90_000, intervalMs: 200 },
  ).catch((timedOut: Error) => timedOut.message);
  if (live !== 200)
    throw new Error(`API process on ${url} not live (${child.exitCode !== null ? await exited : live}):\n${stderr.join('').slice(-2000)}`);
  return { url, pid: child.pid!, output: () => stdout.join(''), exited };
}
