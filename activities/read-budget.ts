// How many reads of a provider's state this worker process may make (PROVIDER_READS_PER_SECOND,
// PROVIDER_READS_PER_SECOND_BY_PROVIDER, PROVIDER_READS_BURST): one token bucket per provider.
// Fetch-before-apply reads the provider per inbox batch, so a webhook storm would otherwise
// spend the provider's rate limit (shared with session creation) and money. A read refused here is not made: the workflow applies the signed
// body as it is and rechecks soon (workflows/provider-reads.ts), so nothing waits or is lost.
// The bucket lives in the process: N workers may read N times the budget.
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
  take(provider: ProviderName): boolean;
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
