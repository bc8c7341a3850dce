// `npm run dev` as a child process, in a process group of its own (as a terminal runs it), on
// free ports and a temp data directory so it never meets a developer's stack or another test.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Test } from 'tap';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.ts';

const START_TIMEOUT_MS = 180_000;
const TEARDOWN_GRACE_MS = 20_000;

export interface DevProcess {
  child: ChildProcess;
  env: Record<string, string>;
  apiUrl: string;
  sandboxUrl: string;
  output(): string;
  /** Resolves when `pattern` appears in stdout or stderr; fails loudly after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Signals the whole process group, like Ctrl-C in a terminal. */
  signalGroup(signal: NodeJS.Signals): void;
  /** npm's exit status, once every process writing to its output has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export type DevStackEnv = Record<
  | 'PORT'
  | 'SANDBOX_PORT'
  | 'PGLITE_PORT'
  | 'DEV_TEMPORAL_PORT'
  | 'DEV_TEMPORAL_UI_PORT'
  | 'DEV_MAIL_PORT'
  | 'PGLITE_DIR'
  | 'DEV_TEMPORAL_DB',
  string
>;

/** The ports a dev stack listens on, by setting. */
export const DEV_STACK_PORTS = ['PORT', 'SANDBOX_PORT', 'PGLITE_PORT', 'DEV_TEMPORAL_PORT', 'DEV_TEMPORAL_UI_PORT'] as const;

/** Whether nothing listens on 127.0.0.1:`port` (a stopped stack must leave every port free). */
export async function portIsFree(port: string): Promise<boolean> {
  const probe = createServer().listen(Number(port), '127.0.0.1');
  try {
    await once(probe, 'listening');
  } catch {
    return false;
  }
  probe.close();
  await once(probe, 'close');
  return true;
}

/** The settings that place a dev stack: every port it listens on and its data. */
export async function devStackEnv(dataDir: string): Promise<DevStackEnv> {
  return {
    PORT: String(await pickFreePort()),
    SANDBOX_PORT: String(await pickFreePort()),
    PGLITE_PORT: String(await pickFreePort()),
    DEV_TEMPORAL_PORT: String(await pickFreePort()),
    DEV_TEMPORAL_UI_PORT: String(await pickFreePort()),
    DEV_MAIL_PORT: String(await pickFreePort()),
    PGLITE_DIR: join(dataDir, 'pglite'),
    DEV_TEMPORAL_DB: join(dataDir, 'temporal.sqlite'),
  };
}

/** Starts `npm run dev` without waiting for it; killed (group-wide) at teardown if still running. */
export function spawnDev(t: Pick<Test, 'teardown'>, env: DevStackEnv & Record<string, string>): DevProcess {
  const { DATABASE_URL: _db, TEMPORAL_ADDRESS: _temporal, SMTP_URL: _smtp, ...inherited } = process.env;
  // VERIFLOW_ENV_FILE empty: a developer's .env is no part of a test's stack, unless the test names a file.
  const child = spawn('npm', ['run', 'dev'], {
    env: { ...inherited, VERIFLOW_ENV_FILE: '', ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const waiters = new Set<() => void>();
  const append = (chunk: Buffer) => {
    text += chunk.toString('utf8');
    for (const wake of waiters) wake();
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  // 'close', not 'exit': npm ends at Ctrl-C at once, while dev and the worker (which share its
  // output) are still stopping; the output is whole only once all of them are gone.
  const exited = once(child, 'close').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  let done = false;
  void exited.then(() => {
    done = true;
    for (const wake of waiters) wake();
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  };
  // dev stops what it started (the Temporal dev server runs in a process group of its own);
  // only what is still running after that is killed.
  t.teardown(async () => {
    if (done) return;
    signalGroup('SIGTERM');
    const timer = setTimeout(() => signalGroup('SIGKILL'), TEARDOWN_GRACE_MS);
    await exited;
    clearTimeout(timer);
  });
  const waitFor = (pattern: RegExp, timeoutMs = START_TIMEOUT_MS) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`npm run dev: no ${pattern} within ${timeoutMs} ms. Output:\n${text}`)), timeoutMs);
      const finish = (error: Error | null, match?: RegExpMatchArray) => {
        clearTimeout(timer);
        waiters.delete(check);
        if (error) reject(error);
        else resolve(match!);
      };
      const check = () => {
        const match = pattern.exec(text);
        if (match) finish(null, match);
        else if (done) finish(new Error(`npm run dev exited before printing ${pattern}. Output:\n${text}`));
      };
      waiters.add(check);
      check();
    });
  return {
    child,
    env,
    apiUrl: `http://127.0.0.1:${env.PORT}`,
    sandboxUrl: `http://127.0.0.1:${env.SANDBOX_PORT}`,
    output: () => text,
    waitFor,
    signalGroup,
    exited,
  };
}

/** Starts `npm run dev` and waits until it says it is running. */
export async function startDev(t: Pick<Test, 'teardown'>, env: DevStackEnv & Record<string, string>): Promise<DevProcess> {
  const dev = spawnDev(t, env);
  await dev.waitFor(/veriflow is running[\s\S]*Ctrl-C stops everything/);
  return dev;
}
