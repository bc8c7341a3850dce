// A bench run's processes and its time bound. Every process and resource the run starts
// registers how to stop it; the run ends by stopping them in reverse order, whether it finished,
// failed or ran past its hard stop. A run past its hard stop still prints what it measured so
// far (a 15-minute run that dies at minute 14 must not lose its first 13).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

type Cleanup = () => Promise<unknown> | unknown;

/** How long a process gets to exit on SIGTERM (the API and worker shut down cleanly, writing CPU profiles when asked). */
const TERM_GRACE_MS = 8000;

export class BenchRun {
  /** Phase results as they are measured, by phase name: printed as they stand if the run is stopped. */
  readonly measured: Record<string, unknown> = {};
  private readonly cleanups: Cleanup[] = [];
  private stopping: Promise<void> | null = null;
  private pastHardStop = false;

  private readonly options: { hardStopMs: number; log: (line: string) => void };

  constructor(options: { hardStopMs: number; log: (line: string) => void }) {
    this.options = options;
  }

  onStop(...cleanups: Cleanup[]): void {
    this.cleanups.push(...cleanups);
  }

  /**
   * Starts a process of the run. With `announces`, waits for its first stdout line (a JSON object
   * saying where it listens); otherwise resolves at once. With `nice`, it runs at that niceness
   * (through nice(1), so every thread it starts inherits it). With `logFile`, its stdout (our
   * processes log there) is appended to that file.
   */
  child<Ready extends object = Record<string, never>>(
    name: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    { announces = false, nice = 0, logFile }: { announces?: boolean; nice?: number; logFile?: string } = {},
  ): Promise<{ proc: ChildProcess; ready: Ready }> {
    const [command, commandArgs] = nice === 0 ? [process.execPath, args] : ['nice', ['-n', String(nice), process.execPath, ...args]];
    const log = logFile && !announces ? openSync(logFile, 'a') : null;
    const proc = spawn(command, commandArgs, {
      env: { ...process.env, ...env },
      stdio: ['ignore', announces ? 'pipe' : (log ?? 'ignore'), 'pipe'],
    });
    if (log !== null) closeSync(log);
    const tail: string[] = [];
    proc.stderr!.setEncoding('utf8').on('data', (c: string) => tail.push(c));
    this.onStop(async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const exited = new Promise((resolve) => proc.once('exit', () => resolve(true)));
      if (!(await Promise.race([exited, sleep(TERM_GRACE_MS).then(() => false)]))) proc.kill('SIGKILL');
    });
    return new Promise((resolve, reject) => {
      proc.once('exit', (code) => {
        const error = new Error(`${name} exited (${code}):\n${tail.join('').slice(-2000)}`);
        // After start, a crash would otherwise only show up as a timeout somewhere later.
        if (!this.stopping) this.options.log(error.message);
        reject(error);
      });
      if (announces) createInterface({ input: proc.stdout! }).once('line', (line) => resolve({ proc, ready: JSON.parse(line) as Ready }));
      else resolve({ proc, ready: {} as Ready });
    });
  }

  /** Runs `body`, then stops everything the run started and exits: 0, 1 on an error, 2 past the hard stop. */
  async main(body: () => Promise<void>): Promise<never> {
    const hardStop = setTimeout(() => {
      this.options.log(`bench exceeded its hard stop (${this.options.hardStopMs / 1000} s); stopping`);
      process.stdout.write(`Measured before the stop:\n${JSON.stringify(this.measured, null, 2)}\n`);
      this.pastHardStop = true;
      void this.stop().then(() => process.exit(2));
    }, this.options.hardStopMs);
    let code = 0;
    try {
      await body();
    } catch (err) {
      console.error(err);
      code = 1;
    }
    clearTimeout(hardStop);
    // The body may end (or fail, its processes gone) while the hard stop is still stopping them.
    await this.stop();
    process.exit(this.pastHardStop ? 2 : code);
  }

  /** Runs the cleanups once, newest first; every caller waits for the same run. */
  private stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const cleanup of this.cleanups.reverse())
        await Promise.resolve()
          .then(cleanup)
          .catch(() => {});
    })();
    return this.stopping;
  }
}
