// What a composition root (api-root.ts, worker-root.ts) opened itself, as opposed to what its
// caller handed it: only the former is closed with the root.
import type { Env } from '../config/env.ts';
import { createDatabase, type DatabaseHandle } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';

export class OwnedResources {
  private readonly closers: (() => Promise<unknown> | void)[] = [];

  add(close: () => Promise<unknown> | void): void {
    this.closers.push(close);
  }

  /** Closes everything added so far, last opened first; a second call closes nothing twice. */
  async close(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) await close();
  }

  /** The caller's open database, else DATABASE_URL opened (closed with the root) and migrated. */
  async database(env: Pick<Env, 'DATABASE_URL'>, given: DatabaseHandle | undefined): Promise<DatabaseHandle> {
    if (given) return given;
    const opened = await createDatabase({ url: env.DATABASE_URL });
    this.add(() => opened.close());
    await migrateDatabase(opened.db);
    return opened;
  }
}
