// How many reads of a provider's state the workers may make (PROVIDER_READS_PER_SECOND,
// PROVIDER_READS_PER_SECOND_BY_PROVIDER, PROVIDER_READS_BURST): one token bucket per provider.
// Fetch-before-apply reads the provider per inbox batch, so a webhook storm would otherwise
// spend the provider's rate limit (shared with session creation) and money. A read refused here is not made: the workflow applies the signed
// body as it is and rechecks soon (workflows/provider-reads.ts), so nothing waits or is lost.
// The workers share one bucket per provider in Postgres (sharedProviderReadBudget); a bucket in
// the process (providerReadBudget) decides while the database cannot be asked.
import { sql } from 'drizzle-orm';
import { selectRows, type Database } from '../db/client.ts';
import { providerReadBudgets } from '../db/schema/index.ts';
import type { ProviderName } from '../domain/verification.ts';

export interface ReadBudgetSettings {
  /** Tokens added per second (a fraction is fine: 0.5 is one read every two seconds). */
  perSecond: number;
  /** Tokens held at most, and at the start: the reads a quiet provider may make at once. */
  burst: number;
}

/** Grants at most `burst + perSecond × w` takes in any interval of w seconds. */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  private readonly settings: ReadBudgetSettings;

  constructor(settings: ReadBudgetSettings, now: number) {
    this.settings = settings;
    this.tokens = settings.burst;
    this.refilledAt = now;
  }

  /** Takes one token if there is one. `now`: epoch ms; a clock stepping back adds nothing. */
  take(now: number): boolean {
    if (now > this.refilledAt) {
      this.tokens = Math.min(this.settings.burst, this.tokens + ((now - this.refilledAt) * this.settings.perSecond) / 1000);
      this.refilledAt = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export interface ProviderReadBudget {
  /** Whether one more read of `provider` may be made now (and counts it if so). */
  take(provider: ProviderName): boolean | Promise<boolean>;
}

/** One bucket per provider, each with its provider's settings. */
export function providerReadBudget(settings: Record<ProviderName, ReadBudgetSettings>, clock: () => number = Date.now): ProviderReadBudget {
  const buckets = new Map<ProviderName, TokenBucket>();
  return {
    take(provider) {
      let bucket = buckets.get(provider);
      if (!bucket) buckets.set(provider, (bucket = new TokenBucket(settings[provider], clock())));
      return bucket.take(clock());
    },
  };
}

export interface SharedReadBudgetOptions {
  /** The database could not be asked (after it last could): reads are decided by this process's own bucket until it can. */
  onStoreDown?: (err: unknown) => void;
  /** The database answers again after onStoreDown. */
  onStoreUp?: () => void;
}

/**
 * The budget every worker process on `db` shares, as the provider's rate limit is one per account:
 * one token bucket per provider in provider_read_budgets, refilled on the database's clock (one
 * clock for every worker), taken by a single UPDATE that succeeds only with a token to spare. The
 * row lock orders concurrent takes, so no two workers spend the same token. While the database
 * cannot be asked, a bucket of this process's own decides, so reads stay bounded (per process)
 * and verifications go on; the webhooks it refuses are applied as signed and rechecked, as any
 * read past the budget.
 */
export function sharedProviderReadBudget(
  db: Database,
  settings: Record<ProviderName, ReadBudgetSettings>,
  { onStoreDown, onStoreUp }: SharedReadBudgetOptions = {},
): ProviderReadBudget {
  const fallback = providerReadBudget(settings);
  const rowExists = new Set<ProviderName>();
  let storeDown = false;
  const takeShared = async (provider: ProviderName): Promise<boolean> => {
    const { perSecond, burst } = settings[provider];
    if (!rowExists.has(provider)) {
      await db
        .insert(providerReadBudgets)
        .values({ provider, tokens: burst, refilledAt: sql`clock_timestamp()` })
        .onConflictDoNothing();
      rowExists.add(provider);
    }
    // A clock stepping back refills nothing; a take that waited for another's row lock is
    // rechecked against the tokens that one left.
    const refilled = sql`least(${burst}::float8, b.tokens + greatest(0, extract(epoch from c.now - b.refilled_at))::float8 * ${perSecond}::float8)`;
    const taken = await selectRows<{ tokens: number }>(
      db,
      sql`update provider_read_budgets as b
          set tokens = ${refilled} - 1, refilled_at = greatest(b.refilled_at, c.now)
          from (select clock_timestamp() as now) as c
          where b.provider = ${provider} and ${refilled} >= 1
          returning b.tokens`,
    );
    return taken.length > 0;
  };
  return {
    async take(provider) {
      try {
        const granted = await takeShared(provider);
        if (storeDown) {
          storeDown = false;
          onStoreUp?.();
        }
        return granted;
      } catch (err) {
        if (!storeDown) {
          storeDown = true;
          onStoreDown?.(err);
        }
        return fallback.take(provider);
      }
    },
  };
}
