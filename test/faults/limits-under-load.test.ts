// Rate limit and tenant isolation under concurrent load: one tenant hammering its key is limited
// with 429 + Retry-After without touching another tenant, and cross-tenant reads stay 404 while
// the load runs.
import t from 'tap';
import { createTenant } from '../../api/services/tenants.ts';
import { TEST_API_KEY, startStack } from '../helpers/stack.ts';

const LIMIT = 25;
const BURST = 80;

t.test('rate limit and tenant isolation under concurrent load', async (t) => {
  const stack = await startStack(t, { worker: false, env: { RATE_LIMIT_MAX: String(LIMIT), RATE_LIMIT_WINDOW: '1m' } });
  const other = await createTenant(stack.database.db, 'load-other');
  const mine = await stack.request('POST', '/v1/verifications', { provider: 'persona' });
  const theirs = await stack.request('POST', '/v1/verifications', { provider: 'persona' }, { authorization: `Bearer ${other.apiKey}` });
  const get = (key: string, id: string) =>
    fetch(`${stack.apiUrl}/v1/verifications/${id}`, { headers: { authorization: `Bearer ${key}` } }).then(async (r) => ({
      status: r.status,
      retryAfter: r.headers.get('retry-after'),
      type: r.headers.get('content-type') ?? '',
      body: (await r.json()) as { id?: string; code?: string },
    }));

  // My key: a burst of reads of my own and of the other tenant's verification, all at once;
  // the other tenant reads its own at the same time.
  const [crossReads, theirReads] = await Promise.all([
    Promise.all(Array.from({ length: 10 }, () => get(TEST_API_KEY, theirs.body.id))),
    Promise.all(Array.from({ length: 10 }, () => get(other.apiKey, theirs.body.id))),
  ]);
  t.same(
    crossReads.map((r) => r.status),
    Array(10).fill(404),
    "concurrent reads of the other tenant's verification are 404, never its data",
  );
  const [hammer, theirsDuringBurst] = await Promise.all([
    Promise.all(Array.from({ length: BURST }, () => get(TEST_API_KEY, mine.body.id))),
    Promise.all(Array.from({ length: 10 }, () => get(other.apiKey, theirs.body.id))),
  ]);
  const mineAll = [...hammer, ...crossReads];
  const ok = mineAll.filter((r) => r.status === 200);
  const notFound = mineAll.filter((r) => r.status === 404);
  const limited = mineAll.filter((r) => r.status === 429);
  t.ok(
    ok.length + notFound.length <= LIMIT - 1,
    `at most the limit got through for my key (${ok.length} + ${notFound.length}; one request was the create)`,
  );
  t.equal(ok.length + notFound.length + limited.length, BURST + 10, 'everything else is 429');
  t.ok(
    limited.every((r) => Number(r.retryAfter) > 0 && /problem\+json/.test(r.type) && r.body.code === 'rate_limited'),
    '429s carry Retry-After and a problem body',
  );
  t.ok(
    ok.every((r) => r.body.id === mine.body.id),
    'a 200 for my key is always my verification',
  );
  t.same(
    [...theirReads, ...theirsDuringBurst].map((r) => r.status),
    Array(20).fill(200),
    'the other tenant is not limited by my burst',
  );
  t.comment(
    `requests=${BURST + 10} ok=${ok.length} crossTenant404=${notFound.length} 429=${limited.length} otherTenant200=${[...theirReads, ...theirsDuringBurst].filter((r) => r.status === 200).length}`,
  );
});
