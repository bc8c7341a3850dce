// The provider read budget (activities/read-budget.ts): a token bucket per provider.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import t from 'tap';
import { TokenBucket, providerReadBudget } from '../../activities/read-budget.ts';
import { InvalidConfigError, parseEnv, providerReadBudgetFromEnv } from '../../config/env.ts';
import { assertProperty } from '../helpers/property.ts';

const T0 = Date.UTC(2026, 0, 1);

t.test('a full bucket grants its burst at once, then one read per 1/rate seconds', async (t) => {
  const bucket = new TokenBucket({ perSecond: 2, burst: 3 }, T0);
  t.same(
    [1, 2, 3, 4].map(() => bucket.take(T0)),
    [true, true, true, false],
  );
  t.notOk(bucket.take(T0 + 499), 'half a second has not passed');
  t.ok(bucket.take(T0 + 500));
  t.notOk(bucket.take(T0 + 500));
  t.same(
    [1, 2, 3, 4].map(() => bucket.take(T0 + 60_000)),
    [true, true, true, false],
    'a quiet minute refills it to the burst, no further',
  );
});

t.test('a clock stepping back adds nothing', async (t) => {
  const bucket = new TokenBucket({ perSecond: 1, burst: 1 }, T0);
  t.ok(bucket.take(T0 + 10_000));
  t.notOk(bucket.take(T0));
  t.notOk(bucket.take(T0 + 10_500));
  t.ok(bucket.take(T0 + 11_000));
});

t.test('each provider has its own budget', async (t) => {
  const budget = providerReadBudget(
    {
      persona: { perSecond: 1, burst: 1 },
      stripe: { perSecond: 1, burst: 1 },
      smileid: { perSecond: 1, burst: 1 },
      idmeta: { perSecond: 1, burst: 1 },
    },
    () => T0,
  );
  t.ok(budget.take('persona'));
  t.notOk(budget.take('persona'));
  t.ok(budget.take('stripe'), 'a Persona storm leaves Stripe its reads');
});

t.test('in any window of w seconds, never more than burst + rate × w grants', (t) => {
  const settings = fc.record({
    perSecond: fc.double({ min: 0.1, max: 50, noNaN: true }),
    burst: fc.integer({ min: 1, max: 20 }),
  });
  // Take attempts as gaps in ms (0: several in the same millisecond).
  const gaps = fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 300 });
  assertProperty(
    t,
    fc.property(settings, gaps, ({ perSecond, burst }, gaps) => {
      const bucket = new TokenBucket({ perSecond, burst }, T0);
      let now = T0;
      const granted: number[] = [];
      for (const gap of gaps) {
        now += gap;
        if (bucket.take(now)) granted.push(now);
      }
      // Every window worth checking starts and ends at a grant.
      for (let i = 0; i < granted.length; i++) {
        for (let j = i; j < granted.length; j++) {
          const windowS = (granted[j]! - granted[i]!) / 1000;
          if (j - i + 1 > burst + perSecond * windowS + 1e-9) return false;
        }
      }
      return true;
    }),
  );
  t.end();
});

t.test('PROVIDER_READS_*: one rate for every provider, overridden per provider, parsed once', async (t) => {
  const budget = (env: Record<string, string>) => providerReadBudgetFromEnv(parseEnv({ NODE_ENV: 'test', ...env }));
  t.same(
    budget({}),
    {
      persona: { perSecond: 5, burst: 20 },
      stripe: { perSecond: 5, burst: 20 },
      smileid: { perSecond: 5, burst: 20 },
      idmeta: { perSecond: 5, burst: 20 },
    },
    'the defaults',
  );
  t.same(
    budget({ PROVIDER_READS_PER_SECOND: '2', PROVIDER_READS_BURST: '4', PROVIDER_READS_PER_SECOND_BY_PROVIDER: 'stripe=25, persona = .5' }),
    {
      persona: { perSecond: 0.5, burst: 4 },
      stripe: { perSecond: 25, burst: 4 },
      smileid: { perSecond: 2, burst: 4 },
      idmeta: { perSecond: 2, burst: 4 },
    },
  );
  const bads: Record<string, string>[] = [
    { PROVIDER_READS_PER_SECOND: '0' },
    { PROVIDER_READS_BURST: '0' },
    { PROVIDER_READS_PER_SECOND_BY_PROVIDER: 'stripe=0' },
    { PROVIDER_READS_PER_SECOND_BY_PROVIDER: 'acme=3' },
    { PROVIDER_READS_PER_SECOND_BY_PROVIDER: 'stripe' },
  ];
  for (const bad of bads) t.throws(() => budget(bad), InvalidConfigError, JSON.stringify(bad));
  const example = readFileSync(fileURLToPath(new URL('../../.env.example', import.meta.url)), 'utf8');
  for (const name of ['PROVIDER_READS_PER_SECOND', 'PROVIDER_READS_PER_SECOND_BY_PROVIDER', 'PROVIDER_READS_BURST'])
    t.match(example, new RegExp(`^${name}=`, 'm'), `${name} listed in .env.example`);
});
