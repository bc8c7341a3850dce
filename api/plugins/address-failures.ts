// Failures per client address in fixed windows, in this process's memory (like the per-key
// counters). Entries of past windows are dropped as new windows start, so an attacker cycling
// addresses costs memory for one window at most.
interface Window {
  count: number;
  endsAt: number;
}

export class AddressFailures {
  private windows = new Map<string, Window>();
  private sweepAt = 0;

  private readonly windowMs: number;

  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  record(address: string, now = Date.now()): void {
    this.sweep(now);
    const current = this.windows.get(address);
    if (current && current.endsAt > now) current.count += 1;
    else this.windows.set(address, { count: 1, endsAt: now + this.windowMs });
  }

  /** How long the address stays refused (ms) once it has `max` failures in its window; 0 while under. */
  blockedFor(address: string, max: number, now = Date.now()): number {
    const current = this.windows.get(address);
    return current && current.endsAt > now && current.count >= max ? current.endsAt - now : 0;
  }

  private sweep(now: number): void {
    if (now < this.sweepAt) return;
    this.sweepAt = now + this.windowMs;
    for (const [address, window] of this.windows) if (window.endsAt <= now) this.windows.delete(address);
  }
}
