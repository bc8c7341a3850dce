// Abuse limits that do not depend on a valid API key: invalid keys are limited per client
// address before any key is hashed or looked up; the provider-wide template sync is an operator
// action (OPERATOR_TOKEN) and concurrent syncs share one run; the public Stripe refresh route is
// limited per address. None of it reaches Temporal, so the app runs alone.
import { randomBytes, randomUUID } from 'node:crypto';
import t from 'tap';
import type { ProviderRegistry } from '../../providers/index.ts';
import { startTestApp } from '../helpers/app.ts';
import { TEST_API_KEY } from '../helpers/test-env.ts';

const INVALID_KEY_MAX = 10;
const SESSION_LINK_MAX = 5;
const FLOOD = 60;
const OPERATOR_TOKEN = 'vf_test_operator_token_0123456789';

const LIMITS = {
  RATE_LIMIT_WINDOW: '3s',
  RATE_LIMIT_INVALID_KEY_MAX: String(INVALID_KEY_MAX),
  RATE_LIMIT_SESSION_LINK_MAX: String(SESSION_LINK_MAX),
};

t.test('limits before authentication', async (t) => {
  const stack = await startTestApp(t, { env: { ...LIMITS, OPERATOR_TOKEN: '' } });
  const getAs = (remoteAddress: string, authorization: string) =>
    stack.app.inject({ method: 'GET', url: '/v1/verifications', remoteAddress, headers: { authorization } });

  await t.test(
    'invalid API keys: limited per client address before auth (429 problem+json with Retry-After); other addresses unaffected',
    async (t) => {
      const statuses: number[] = [];
      let limited;
      for (let i = 0; i < FLOOD; i++) {
        const res = await getAs('198.51.100.7', `Bearer vf_guess_${randomBytes(8).toString('hex')}`);
        statuses.push(res.statusCode);
        if (res.statusCode === 429) limited ??= res;
      }
      const count = (s: number) => statuses.filter((x) => x === s).length;
      t.comment(`${FLOOD} requests with invalid keys from one address: 401=${count(401)} 429=${count(429)}`);
      t.equal(count(401), INVALID_KEY_MAX, `the first ${INVALID_KEY_MAX} are judged (401)`);
      t.equal(count(429), FLOOD - INVALID_KEY_MAX, 'the rest are refused before any key is checked');
      t.ok(limited, 'a 429 was answered');
      if (!limited) return;
      t.equal(limited.headers['content-type'], 'application/problem+json; charset=utf-8');
      const retryAfter = Number(limited.headers['retry-after']);
      t.ok(retryAfter >= 1 && retryAfter <= 3, `Retry-After ${limited.headers['retry-after']} s`);
      t.match(limited.json(), {
        status: 429,
        code: 'rate_limited',
        detail: /invalid API keys from this address/,
        action: /Retry-After/,
        correlationId: /.+/,
      });
      t.equal(
        (await getAs('198.51.100.7', `Bearer ${TEST_API_KEY}`)).statusCode,
        429,
        'the address is refused before its key is looked at, even a valid one',
      );

      t.equal((await getAs('198.51.100.8', 'Bearer vf_guess_other')).statusCode, 401, 'another address still has its own budget');
      t.equal((await getAs('198.51.100.8', `Bearer ${TEST_API_KEY}`)).statusCode, 200, 'and valid keys from it work');
      const valid = [];
      for (let i = 0; i < INVALID_KEY_MAX * 2; i++) valid.push((await getAs('198.51.100.9', `Bearer ${TEST_API_KEY}`)).statusCode);
      t.same([...new Set(valid)], [200], 'valid keys never use up the invalid-key budget');

      await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 100));
      t.equal((await getAs('198.51.100.7', `Bearer ${TEST_API_KEY}`)).statusCode, 200, 'open again after Retry-After');
    },
  );

  await t.test('the Stripe refresh route is limited per client address', async (t) => {
    const statuses: number[] = [];
    let limited;
    for (let i = 0; i < SESSION_LINK_MAX * 4; i++) {
      const res = await stack.app.inject({
        method: 'GET',
        url: `/sessions/stripe/refresh?verification=${randomUUID()}&token=forged`,
        remoteAddress: '203.0.113.5',
      });
      statuses.push(res.statusCode);
      if (res.statusCode === 429) limited ??= res;
    }
    t.comment(
      `${statuses.length} refresh requests from one address: ${[...new Set(statuses)].map((s) => `${s}=${statuses.filter((x) => x === s).length}`).join(' ')}`,
    );
    t.equal(statuses.filter((s) => s !== 429).length, SESSION_LINK_MAX, `${SESSION_LINK_MAX} per window get an answer`);
    t.ok(limited, 'the rest are 429');
    if (!limited) return;
    t.ok(Number(limited.headers['retry-after']) >= 1, 'with Retry-After');
    t.match(limited.json(), { status: 429, code: 'rate_limited', detail: /from this address/ });
    const other = await stack.app.inject({
      method: 'GET',
      url: `/sessions/stripe/refresh?verification=${randomUUID()}&token=forged`,
      remoteAddress: '203.0.113.6',
    });
    t.not(other.statusCode, 429, 'another address is not limited');
  });

  await t.test('template sync without OPERATOR_TOKEN: 403 saying how to enable it; nothing synced', async (t) => {
    const res = await stack.request('POST', '/v1/templates/sync');
    t.equal(res.status, 403, 'a tenant key cannot run the provider-wide sync');
    t.match(res.body, { status: 403, code: 'operator_token_not_configured', detail: /operator/, action: /OPERATOR_TOKEN/ });
    const templates = await stack.request('GET', '/v1/templates');
    t.equal(templates.status, 200, 'listing the synced templates stays a tenant route');
  });

  await t.test('template sync with OPERATOR_TOKEN: the token runs it, a tenant key does not; concurrent syncs share one run', async (t) => {
    let listings = 0;
    const counting = (configured: ProviderRegistry): ProviderRegistry => ({
      ...configured,
      get(name) {
        const adapter = configured.get(name);
        const steps = adapter.steps;
        if (!steps) return adapter;
        return {
          ...adapter,
          steps: {
            ...steps,
            listTemplates: (...args: Parameters<typeof steps.listTemplates>) => ((listings += 1), steps.listTemplates(...args)),
          },
        };
      },
    });
    const { app } = await startTestApp(t, { env: { ...LIMITS, OPERATOR_TOKEN }, providers: counting });
    const sync = (authorization: string) => app.inject({ method: 'POST', url: '/v1/templates/sync', headers: { authorization } });

    const tenant = await sync(`Bearer ${TEST_API_KEY}`);
    t.equal(tenant.statusCode, 401, 'a tenant API key is not the operator token');
    t.match(tenant.json(), { code: 'invalid_operator_token', action: /OPERATOR_TOKEN/ });
    t.equal((await app.inject({ method: 'POST', url: '/v1/templates/sync' })).statusCode, 401, 'no credential: 401');
    t.equal(listings, 0, 'nothing was synced for them');

    const together = await Promise.all(Array.from({ length: 5 }, () => sync(`Bearer ${OPERATOR_TOKEN}`)));
    t.same(
      together.map((r) => r.statusCode),
      Array(5).fill(200),
      'the operator token runs the sync',
    );
    t.match(together[0]!.json(), { synced: Number, deactivated: Number, durationMs: Number });
    t.equal(listings, 1, `5 concurrent syncs listed the provider's templates once (${listings})`);
    t.equal((await sync(`Bearer ${OPERATOR_TOKEN}`)).statusCode, 200);
    t.equal(listings, 2, 'a later sync runs again');
  });
});
