// Runs `temporal server start-dev`: the real Temporal server (SQLite inside) for dev and tests.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { withParentDeathSignal } from './parent-death-signal.ts';
import { resolveTemporalCli } from './temporal-cli.ts';

const HOST = '127.0.0.1';

/** Registered on every start; the workflows upsert them and the Web UI filters on them. */
export const VERIFICATION_SEARCH_ATTRIBUTES = {
  VerificationStatus: 'Keyword',
  VerificationProvider: 'Keyword',
  TenantId: 'Keyword',
} as const;

/**
 * Server settings veriflow relies on wherever it runs Temporal: this dev server, the cluster of
 * `npm run test:cluster` and docker-compose.yml (a test holds compose to it).
 */
export const SERVER_DYNAMIC_CONFIG = {
  // An activity a worker schedules on its own task queue comes back with the completion of the
  // workflow task that scheduled it, instead of through matching and the worker's next poll: a
  // created verification's session opens with one dispatch less (README "Temporal server settings").
  'system.enableActivityEagerExecution': true,
} as const;

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
const STDERR_TAIL_LINES = 30;

export class TemporalDevServerError extends Error {
  readonly code = 'VF_TEMPORAL_DEV_SERVER';
  override readonly name = 'TemporalDevServerError';
}

export interface TemporalDevServerOptions {
  /** SQLite file so workflows survive restarts; null or omitted keeps everything in memory. */
  dbFile?: string | null;
  /** gRPC port; 0 or omitted picks a free one. */
  port?: number;
  /** Web UI port; 0 picks a free one; null or omitted runs headless. */
  uiPort?: number | null;
  /**
   * Codec server the Web UI sends payloads to for display (`--ui-codec-endpoint`), e.g. the API's
   * `http://127.0.0.1:3000/codec`; without it the UI shows encrypted payloads as they are stored.
   */
  uiCodecEndpoint?: string;
  namespace?: string;
  logLevel?: string;
  /** The server's own output. 'pipe' leaves child.stdout/stderr for the caller to read. */
  stdio?: 'inherit' | 'pipe' | 'ignore';
  /** Skips CLI resolution (and any build) when the caller already has the binary. */
  cliPath?: string;
  readyTimeoutMs?: number;
  /**
   * Outside the caller's process group, so a terminal's Ctrl-C reaches only the caller, which stops
   * the server last (npm run dev: the worker drains against a live server first). A caller killed
   * outright still takes the server with it on Linux (scripts/lib/parent-death-signal.ts).
   */
  ownProcessGroup?: boolean;
}

export interface TemporalDevServer {
  /** host:port for `Connection.connect({ address })`. */
  address: string;
  uiUrl: string | null;
  port: number;
  /** SIGTERM, then SIGKILL if the server has not exited within a grace period. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL at once, for fault tests (a crash, not a shutdown). */
  kill(): void;
  child: ChildProcess;
}

export async function startTemporalDevServer(options: TemporalDevServerOptions = {}): Promise<TemporalDevServer> {
  const cliPath = options.cliPath ?? (await resolveTemporalCli()).path;
  // An explicit port must be free now: if another server held it, the readiness check would talk
  // to that server and report success while ours dies on "address already in use".
  const port = await claimPort(options.port || 0);
  const uiPort = options.uiPort == null ? null : await claimPort(options.uiPort);
  const namespace = options.namespace ?? 'default';
  const dbFile = options.dbFile ?? null;
  // The CLI does not create the SQLite file's directory.
  if (dbFile) await mkdir(dirname(dbFile), { recursive: true });

  const args = [
    'server',
    'start-dev',
    '--ip',
    HOST,
    '--port',
    String(port),
    ...(uiPort === null ? ['--headless'] : ['--ui-port', String(uiPort)]),
    ...(uiPort !== null && options.uiCodecEndpoint ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : []),
    ...(dbFile ? ['--db-filename', dbFile] : []),
    '--namespace',
    namespace,
    '--log-level',
    options.logLevel ?? 'warn',
    // The server would otherwise phone home for version news; dev and CI must work offline.
    '--dynamic-config-value',
    'frontend.enableServerVersionCheck=false',
    ...Object.entries(SERVER_DYNAMIC_CONFIG).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${JSON.stringify(value)}`]),
    ...Object.entries(VERIFICATION_SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
  ];

  const stdio = options.stdio ?? 'ignore';
  // stderr is always piped so a failed start can show why; it is forwarded when asked to inherit.
  // Unwanted stdout is read too rather than ignored: the CLI reports some start failures there.
  // A caller killed outright runs no exit handler; the kernel then stops the server instead.
  const [command, commandArgs] = await withParentDeathSignal(cliPath, args);
  const child = spawn(command, commandArgs, {
    stdio: ['ignore', stdio === 'ignore' ? 'pipe' : stdio, 'pipe'],
    detached: options.ownProcessGroup ?? false,
  });
  const stderrTail = collectTail(child, stdio === 'inherit', stdio === 'ignore');
  const exited = exitOf(child);
  // A test or script that ends without stop() must not leave an orphan server holding the port.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const address = `${HOST}:${port}`;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      process.removeListener('exit', killOnExit);
      await terminate(child, exited, STOP_GRACE_MS);
    })());

  try {
    const timeoutMs = options.readyTimeoutMs ?? READY_TIMEOUT_MS;
    await waitUntilReady({ address, namespace, exited, stderrTail, timeoutMs });
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    address,
    uiUrl: uiPort === null ? null : `http://${HOST}:${uiPort}`,
    port,
    stop,
    kill: () => child.kill('SIGKILL'),
    child,
  };
}

/**
 * A port free on 127.0.0.1 right now, for a server the caller starts next (another process may
 * still take it first). Below the ephemeral range, like pickFreePorts: a port the OS picked for
 * `listen(0)` is one it also hands out as the source port of any outbound connection.
 */
export async function pickFreePort(): Promise<number> {
  const [port] = await pickFreePorts(1);
  return port!;
}

/** Ports this process picked already: a caller may not listen on its port yet. */
const pickedBefore = new Set<number>();

/**
 * `count` distinct free ports on 127.0.0.1 between `from` and `to` (exclusive), all held at once
 * while picked so none repeats, and none this process picked before. A range below the OS's
 * ephemeral ports (32768+ on Linux), which outbound connections never take, also suits servers
 * that store a port in a 16-bit signed column (Temporal's cluster membership).
 */
export async function pickFreePorts(count: number, { from = 20_000, to = 32_768 } = {}): Promise<number[]> {
  const held: Server[] = [];
  try {
    for (let tries = 0; held.length < count; tries += 1) {
      if (tries > count * 50)
        throw new TemporalDevServerError(`found only ${held.length} of ${count} free ports in ${from}-${to - 1} on ${HOST}`);
      const candidate = from + Math.floor(Math.random() * (to - from));
      if (pickedBefore.has(candidate)) continue;
      const server = createServer().listen(candidate, HOST);
      try {
        await once(server, 'listening');
        held.push(server);
        pickedBefore.add(candidate);
      } catch {
        // taken (EADDRINUSE): try another
      }
    }
    return held.map((server) => (server.address() as { port: number }).port);
  } finally {
    await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

/** Binds `port` (0: any, as pickFreePort picks) on 127.0.0.1 and releases it, proving it free; resolves to the port. */
async function claimPort(port: number): Promise<number> {
  if (port === 0) return pickFreePort();
  const server = createServer();
  server.listen(port, HOST);
  try {
    await once(server, 'listening');
  } catch (error) {
    throw new TemporalDevServerError(
      `Port ${HOST}:${port} is not free (${(error as Error).message}); is another Temporal dev server running? ` +
        'Stop it, or pick another port (0 picks a free one).',
      { cause: error },
    );
  }
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('TCP server has no port');
  return address.port;
}

interface ReadinessCheck {
  address: string;
  namespace: string;
  exited: Promise<string>;
  stderrTail: () => string;
  timeoutMs: number;
}

// The frontend accepts connections before the namespace is registered, so "ready" means the
// namespace answers, not that the port is open.
async function waitUntilReady({ address, namespace, exited, stderrTail, timeoutMs }: ReadinessCheck): Promise<void> {
  let exit: string | null = null;
  void exited.then((how) => (exit = how));
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  while (Date.now() < deadline) {
    if (exit) {
      throw new TemporalDevServerError(`Temporal dev server exited before it was ready (${exit}).\n${stderrTail()}`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      try {
        await connection.workflowService.getSystemInfo({});
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
      await sleep(200);
    }
  }
  throw new TemporalDevServerError(
    `Temporal dev server at ${address} was not ready after ${timeoutMs} ms ` +
      `(last error: ${lastError instanceof Error ? lastError.message : String(lastError)}).\n${stderrTail()}`,
  );
}

/** SIGTERM, then SIGKILL if `child` has not exited within `graceMs`; resolves once it is gone. */
export async function terminate(child: ChildProcess, exited: Promise<string>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  // Unref'd: once the process has exited, this timer must not keep the caller's process alive.
  const graceExpired = sleep(graceMs, 'expired' as const, { ref: false });
  if ((await Promise.race([exited, graceExpired])) === 'expired') {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Resolves (never rejects) with how the process ended, including a failed spawn. */
export function exitOf(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? `exit code ${code}`));
    child.once('error', (error) => resolve(`could not run ${child.spawnfile}: ${error.message}`));
  });
}

function collectTail(child: ChildProcess, forward: boolean, withStdout: boolean): () => string {
  const lines: string[] = [];
  const collect = (stream: NodeJS.ReadableStream | null, echo: boolean) => {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      if (echo) process.stderr.write(chunk);
      lines.push(...chunk.split('\n').filter(Boolean));
      lines.splice(0, Math.max(0, lines.length - STDERR_TAIL_LINES));
    });
  };
  collect(child.stderr, forward);
  if (withStdout) collect(child.stdout, false);
  return () => (lines.length ? `Server output (last lines):\n${lines.join('\n')}` : 'The server wrote nothing.');
}
