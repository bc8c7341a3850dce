// A verification worker in its own process, so a test can SIGKILL it (a crash, not a shutdown).
// As an entry (`node test/helpers/worker-process.ts`) it reads the stack's
// environment (DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE, PERSONA_*), loads the
// workflow bundle the test wrote to WORKER_BUNDLE_PATH (bundling again would cost seconds), and
// prints one `ready` line on stdout once it polls. Imported, it spawns such a process.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import type { Env } from '../../config/env.ts';

const ENTRY = fileURLToPath(import.meta.url);
// Ready means polling and its build current (Worker Versioning), which takes the server seconds more on a busy machine.
const READY_TIMEOUT_MS = 90_000;

export interface WorkerProcess {
  pid: number;
  child: ChildProcess;
  /** Resolves with how the process ended. */
  exited: Promise<string>;
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<string>;
}

/** Writes the workflow bundle once for every worker process of a test. */
export async function writeWorkflowBundle(t: Pick<Test, 'teardown'>, code: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vf-bundle-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'workflows.js');
  await writeFile(path, code);
  return path;
}

export async function startWorkerProcess(t: Pick<Test, 'teardown'>, env: Env, bundlePath: string): Promise<WorkerProcess> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, WORKER_BUNDLE_PATH: bundlePath };
  for (const [key, value] of Object.entries(env)) if (value !== undefined) childEnv[key] = String(value);
  const child = spawn(process.execPath, [ENTRY], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<string>((resolve) => child.once('close', (code, signal) => resolve(signal ?? `exit code ${code}`)));
  const stderr: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return exited;
  };
  t.teardown(kill);

  const lines = createInterface({ input: child.stdout! });
  const ready = once(lines, 'line');
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`worker process not ready in ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS).unref(),
  );
  const died = exited.then((how) => {
    throw new Error(`worker process exited before it was ready (${how}):\n${stderr.join('').slice(-2000)}`);
  });
  try {
    const [line] = (await Promise.race([ready, timeout, died])) as [string];
    if (line.trim() !== 'ready') throw new Error(`worker process said ${JSON.stringify(line)}`);
  } catch (error) {
    await kill();
    throw error;
  }
  return { pid: child.pid!, child, exited, kill };
}

async function main(): Promise<void> {
  const { pino } = await import('pino');
  const { parseEnv } = await import('../../config/env.ts');
  const { composeWorker } = await import('../../wiring/worker-root.ts');

  const env = parseEnv(process.env);
  const bundlePath = process.env.WORKER_BUNDLE_PATH;
  if (!env.TEMPORAL_ADDRESS || !env.DATABASE_URL || !bundlePath)
    throw new Error('TEMPORAL_ADDRESS, DATABASE_URL and WORKER_BUNDLE_PATH are required');
  // The production worker's wiring, as test/helpers/stack.ts starts its in-process workers: no
  // schedules, and a silent logger (stdout carries the `ready` line).
  const root = await composeWorker(
    { ...env, TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS },
    {
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      workflowBundle: { code: await readFile(bundlePath, 'utf8') },
      schedules: false,
    },
  );
  process.stdout.write('ready\n');
  await root.stopped;
}

if (process.argv[1] === ENTRY) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
