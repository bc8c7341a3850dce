import type { Logger } from 'pino';
import type { Database } from '../db/client.js';
import type { ProviderName } from '../domain/verification.js';
import type { ProviderAdapter } from '../providers/types.js';

export interface ProviderLookup {
  get(name: ProviderName): ProviderAdapter;
}

/** Everything activities touch, injected once by the worker (and by tests). */
export interface ActivityDeps {
  db: Database;
  providers: ProviderLookup;
  logger: Logger;
}
