// Close-with-grace for the API and worker processes: the first SIGTERM/SIGINT starts an orderly
// close (stop accepting, drain, close Temporal and the database) and exits 0 when it is done; if
// the deadline passes first or a second signal arrives, the process exits 1 at once with a log
// line saying why, so an orchestrator never has to SIGKILL a process that hangs while closing.
import type { Logger } from 'pino';

export interface GracefulExitOptions {
  deadlineMs: number;
  logger: Pick<Logger, 'info' | 'error'>;
  signals?: readonly NodeJS.Signals[];
}

export function exitGracefullyOnSignal(options: GracefulExitOptions, close: (signal: NodeJS.Signals) => Promise<void>): void {
  const { deadlineMs, logger, signals = ['SIGTERM', 'SIGINT'] } = options;
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      logger.error({ signal }, 'second signal while shutting down: exiting now');
      process.exit(1);
    }
    closing = true;
    logger.info({ signal, deadlineMs }, 'shutting down');
    setTimeout(() => {
      logger.error({ deadlineMs }, 'shutdown deadline passed: exiting now');
      process.exit(1);
    }, deadlineMs).unref();
    close(signal).then(
      () => {
        logger.info('shut down');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
}

/** Set by `npm run dev` in the environment of the processes it forks (scripts/lib/dev-children.ts). */
export const DEV_CHILD_ENV = 'VERIFLOW_DEV_CHILD';

/**
 * The signals that start a shutdown. A process forked by `npm run dev` sits in dev's process group,
 * so Ctrl-C (and SIGHUP, when its terminal closes) reaches it as well as dev, which then stops its
 * children in order with SIGTERM; counted as a second signal, that SIGTERM cut the worker's drain
 * short. Such a process ignores SIGINT and SIGHUP and waits for dev's SIGTERM, and stops itself if
 * dev dies without sending it. Only dev's children: a process manager that forks with an IPC
 * channel too (PM2) stops its processes with SIGINT.
 */
export function shutdownSignals(): NodeJS.Signals[] {
  if (!process.connected || process.env[DEV_CHILD_ENV] !== '1') return ['SIGTERM', 'SIGINT'];
  for (const signal of ['SIGINT', 'SIGHUP'] as const) process.on(signal, () => undefined);
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  return ['SIGTERM'];
}
