// One LISTEN per API process, fanned out to every live stream by verification id. Any API
// instance can serve any stream: the notice comes from Postgres, not from the writer's memory.
import { VERIFICATION_CHANGED_CHANNEL } from '../../db/change-notice.js';
import type { DatabaseHandle } from '../../db/client.js';

type Listener = () => void;

export class ChangeFeed {
  private readonly listeners = new Map<string, Set<Listener>>();
  private stopListening: Promise<() => Promise<void>> | null = null;

  constructor(private readonly database: DatabaseHandle) {}

  /** Resolves once LISTEN is active, so no change after this call is missed. */
  async subscribe(verificationId: string, listener: Listener): Promise<() => void> {
    this.stopListening ??= this.database.listen(VERIFICATION_CHANGED_CHANNEL, (id) => this.listeners.get(id)?.forEach((l) => l()));
    await this.stopListening;
    const set = this.listeners.get(verificationId) ?? new Set();
    set.add(listener);
    this.listeners.set(verificationId, set);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(verificationId);
    };
  }

  async close(): Promise<void> {
    if (this.stopListening) await (await this.stopListening)();
    this.listeners.clear();
  }
}
