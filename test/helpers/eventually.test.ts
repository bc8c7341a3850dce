import t from 'tap';
import { eventually } from './eventually.ts';

t.test('returns the first value the condition holds for', async (t) => {
  let reads = 0;
  const value = await eventually(
    async () => ++reads,
    (n) => n === 3,
    { intervalMs: 1 },
  );
  t.equal(value, 3);
  t.equal(reads, 3, 'stops reading once it holds');
});

t.test('a condition that never holds is an error naming what was awaited and the last value', async (t) => {
  let reads = 0;
  await t.rejects(
    eventually(
      async () => ({ status: 'pending', reads: ++reads }),
      (r) => r.status === 'approved',
      { timeoutMs: 50, intervalMs: 5 },
    ),
    // The condition's source as the runtime holds it (whitespace may differ from the file), then the last value read.
    { message: /r\.status\s*===\s*["']approved["'].* within 50 ms; last value: \{ status: 'pending', reads: \d+ \}$/ },
  );
});

t.test('a caller can name what it awaits', async (t) => {
  await t.rejects(
    eventually(
      async () => 0,
      (n) => n > 0,
      { timeoutMs: 20, intervalMs: 5, what: 'a delivered webhook' },
    ),
    { message: /^a delivered webhook did not happen within 20 ms; last value: 0$/ },
  );
});

t.test('an error while reading is not retried away', async (t) => {
  await t.rejects(
    eventually(
      async () => {
        throw new Error('database gone');
      },
      () => true,
    ),
    { message: 'database gone' },
  );
});
