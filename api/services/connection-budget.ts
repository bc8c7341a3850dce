// At most `size` pieces of work at once; the rest queue here, in this process, instead of in the
// database pool. Waiting requests and live streams read through one budget, so however many of
// them there are, the rest of the pool stays free for webhook intake.
export class ConnectionBudget {
  private active = 0;
  private readonly queue: Array<() => void> = [];

  private readonly size: number;

  constructor(size: number) {
    this.size = size;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active < this.size) this.active += 1;
    // A finishing run hands its place straight to the next in line, so `active` stays as it is.
    else await new Promise<void>((resolve) => this.queue.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.active -= 1;
    }
  }
}
