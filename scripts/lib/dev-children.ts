// The processes `npm run dev` runs beside itself, each with an event loop of its own: the embedded
// database server and the worker. Both are in dev's process group, so Ctrl-C reaches them too.
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { DEV_CHILD_ENV } from '../../wiring/graceful-exit.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Node strips the types itself; nothing of dev's own flags is inherited (an --inspect would collide).
const EXEC_ARGV: string[] = [];

export interface DevChild {
  child: ChildProcess;
  /** SIGTERM (unless it has exited already), then SIGKILL after `graceMs`; resolves with how it ended. */
  stop(graceMs: number): Promise<string>;
}

function devChild(child: ChildProcess): DevChild {
  const exited = once(child, 'exit').then(([code, signal]) => (signal ? `signal ${String(signal)}` : `exit code ${String(code)}`));
  return {
    child,
    async stop(graceMs) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const how = await exited;
      clearTimeout(timer);
      return how;
    },
  };
}

/** Starts db/embedded-server.ts; resolves once it accepts connections, with its DATABASE_URL. */
export async function startEmbeddedDatabase(env: NodeJS.ProcessEnv): Promise<DevChild & { url: string }> {
  const child = fork(`${ROOT}db/embedded-server.ts`, [], { env, execArgv: EXEC_ARGV, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const started = devChild(child);
  const message: { url?: string; error?: string } = await Promise.race([
    once(child, 'message').then(([m]) => m as { url?: string; error?: string }),
    once(child, 'exit').then(([code]) => ({ error: `the embedded database server exited (code ${String(code)})` })),
  ]);
  if (!message.url) {
    await started.stop(1000);
    throw new Error(message.error ?? 'the embedded database server did not start');
  }
  return { ...started, url: message.url };
}

/** Runs worker.ts (the production entry point) with dev's configuration; resolves once it polls. */
export async function startWorkerProcess(env: NodeJS.ProcessEnv): Promise<DevChild> {
  const child = fork(`${ROOT}worker.ts`, [], {
    env: { ...env, [DEV_CHILD_ENV]: '1' },
    execArgv: EXEC_ARGV,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const started = devChild(child);
  const ready = await Promise.race([once(child, 'message').then(() => true), once(child, 'exit').then(() => false)]);
  if (!ready) throw new Error('the worker exited before it started (its output is above)');
  return started;
}
