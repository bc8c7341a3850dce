// One LISTEN per API process, fanned out to every live stream and waiting request by
// verification id. Any API instance can serve any stream: the notice comes from Postgres, not
// from the writer's memory. The reads a notice triggers share a small connection budget.
import { VERIFICATION_CHANGED_CHANNEL } from '../../db/change-notice.ts';
import type { DatabaseHandle } from '../../db/client.ts';
import { serviceUnavailable } from '../errors.ts';
import { ConnectionBudget } from './connection-budget.ts';

type Listener = () => void;

export class ChangeFeed {
  private readonly listeners = new Map<string, Set<Listener>>();
  private listening: Promise<() => Promise<void>> | null = null;
  private readonly budget: ConnectionBudget;
  private readonly database: DatabaseHandle;

  constructor(database: DatabaseHandle, readConnections: number) {
    this.database = database;
    this.budget = new ConnectionBudget(readConnections);
  }

  /** Resolves once LISTEN is active, so no change after this call is missed; 503 when it cannot be. */
  async subscribe(verificationId: string, listener: Listener): Promise<() => void> {
    try {
      await this.listen();
    } catch (err) {
      throw Object.assign(
        serviceUnavailable({
          code: 'live_updates_unavailable',
          detail: 'Live updates are unavailable: the database cannot be reached',
          action: 'Retry in a few seconds; GET /v1/verifications/:id answers meanwhile.',
        }),
        { cause: err },
      );
    }
    const set = this.listeners.get(verificationId) ?? new Set();
    set.add(listener);
    this.listeners.set(verificationId, set);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(verificationId);
    };
  }

  /** Database reads done because of a notice: at most `readConnections` at once. */
  read<T>(work: () => Promise<T>): Promise<T> {
    return this.budget.run(work);
  }

  private listen(): Promise<() => Promise<void>> {
    // A failed LISTEN (database unreachable) is forgotten, so the next subscriber tries again.
    this.listening ??= this.database
      .listen(VERIFICATION_CHANGED_CHANNEL, (id) => this.listeners.get(id)?.forEach((l) => l()))
      .catch((err: unknown) => {
        this.listening = null;
        throw err;
      });
    return this.listening;
  }

  async close(): Promise<void> {
    const listening = this.listening;
    this.listening = null;
    this.listeners.clear();
    if (listening) await (await listening.catch(() => async () => {}))();
  }
}
