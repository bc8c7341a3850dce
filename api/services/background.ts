import type { Logger } from 'pino';

/** Work started after a response is sent, tracked so a graceful shutdown can wait for it. */
export class BackgroundTasks {
  private readonly running = new Set<Promise<unknown>>();
  constructor(private readonly logger: Logger) {}

  run(name: string, task: () => Promise<unknown>): void {
    const promise = task()
      .catch((err: unknown) => this.logger.error({ err, task: name }, 'background task failed'))
      .finally(() => this.running.delete(promise));
    this.running.add(promise);
  }

  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}
