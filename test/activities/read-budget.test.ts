// The provider read budget (activities/read-budget.ts): a token bucket per provider.
import fc from 'fast-check';
import t from 'tap';
import { TokenBucket, providerReadBudget } from '../../activities/read-budget.js';
import { assertProperty } from '../helpers/property.js';

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
  const budget = providerReadBudget({ perSecond: 1, burst: 1 }, () => T0);
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
