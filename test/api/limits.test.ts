// Limits and method errors: a per-API-key rate limit on /v1/* (429 problem+json with
// Retry-After), provider webhooks and operations routes never limited, and 405 with Allow for a
// known path asked with the wrong method. None of it reaches Temporal, so the app runs alone.
import t from 'tap';
import { createTenant } from '../../api/services/tenants.ts';
import { startTestApp } from '../helpers/app.ts';
import { TEST_API_KEY } from '../helpers/test-env.ts';

const LIMIT = 5;

t.test('rate limit and 405', async (t) => {
  const stack = await startTestApp(t, { env: { RATE_LIMIT_MAX: String(LIMIT), RATE_LIMIT_WINDOW: '2s' } });
  const get = (url: string, apiKey = TEST_API_KEY) =>
    stack.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${apiKey}` } });

  await t.test(
    'the limit per API key: 429 problem+json with Retry-After, other keys unaffected, open again after the window',
    async (t) => {
      const allowed = [];
      for (let i = 0; i < LIMIT; i++) allowed.push(await get('/v1/verifications'));
      t.same(
        allowed.map((r) => r.statusCode),
        Array(LIMIT).fill(200),
      );
      t.equal(allowed[0]!.headers['x-ratelimit-limit'], String(LIMIT));
      t.equal(allowed.at(-1)!.headers['x-ratelimit-remaining'], '0');

      const limited = await get('/v1/verifications?limit=1');
      t.equal(limited.statusCode, 429);
      t.equal(limited.headers['content-type'], 'application/problem+json; charset=utf-8');
      const retryAfter = Number(limited.headers['retry-after']);
      t.ok(retryAfter >= 1 && retryAfter <= 2, `Retry-After ${limited.headers['retry-after']} s`);
      t.match(limited.json(), {
        status: 429,
        code: 'rate_limited',
        title: 'Too many requests',
        detail: /5 requests per 2 s/,
        action: /Retry-After/,
        correlationId: /.+/,
      });
      t.equal((await get('/v1/webhook-deliveries')).statusCode, 429, 'every /v1 route shares the key’s budget');

      const other = await createTenant(stack.database.db, 'limits-other');
      t.equal((await get('/v1/verifications', other.apiKey)).statusCode, 200, 'another key has its own budget');
      t.equal((await stack.app.inject({ method: 'GET', url: '/v1/verifications' })).statusCode, 401, 'no key: 401 before any limit');

      await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 100));
      t.equal((await get('/v1/verifications')).statusCode, 200, 'open again after Retry-After');
    },
  );

  await t.test('provider webhooks, health and docs are never rate limited', async (t) => {
    const webhookStatuses = new Set<number>();
    for (let i = 0; i < LIMIT * 4; i++) {
      const res = await stack.app.inject({
        method: 'POST',
        url: '/webhooks/persona',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${TEST_API_KEY}`,
          'persona-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}`,
        },
        payload: '{}',
      });
      webhookStatuses.add(res.statusCode);
    }
    t.same([...webhookStatuses], [401], 'every forged webhook is judged on its signature, none is throttled');
    const health = new Set<number>();
    for (let i = 0; i < LIMIT * 4; i++)
      health.add(
        (await stack.app.inject({ method: 'GET', url: '/health/live', headers: { authorization: `Bearer ${TEST_API_KEY}` } })).statusCode,
      );
    t.same([...health], [200]);
    t.notOk(
      (await stack.app.inject({ method: 'GET', url: '/health/live' })).headers['x-ratelimit-limit'],
      'no rate-limit headers outside /v1',
    );
  });

  await t.test('405 with Allow for a known path and a wrong method; 404 for an unknown path', async (t) => {
    const webhook = await stack.app.inject({ method: 'GET', url: '/webhooks/persona' });
    t.equal(webhook.statusCode, 405);
    t.equal(webhook.headers.allow, 'POST');
    t.equal(webhook.headers['content-type'], 'application/problem+json; charset=utf-8');
    t.match(webhook.json(), {
      status: 405,
      code: 'method_not_allowed',
      detail: /GET is not allowed on \/webhooks\/persona/,
      correlationId: /.+/,
    });

    const collection = await stack.app.inject({ method: 'DELETE', url: '/v1/verifications' });
    t.equal(collection.statusCode, 405);
    t.equal(collection.headers.allow, 'GET, HEAD, POST');
    const item = await stack.app.inject({ method: 'PUT', url: '/v1/verifications/00000000-0000-4000-8000-000000000000?x=1' });
    t.equal(item.statusCode, 405, 'parameters and query strings are matched');
    t.equal(item.headers.allow, 'GET, HEAD');
    const endpoint = await stack.app.inject({ method: 'DELETE', url: '/v1/webhook-endpoint' });
    t.equal(endpoint.headers.allow, 'GET, HEAD, PUT');
    const retry = await stack.app.inject({ method: 'GET', url: '/v1/webhook-deliveries/00000000-0000-4000-8000-000000000000/retry' });
    t.equal(retry.statusCode, 405);
    t.equal(retry.headers.allow, 'POST');

    const unknown = await stack.app.inject({ method: 'GET', url: '/v1/nothing-here' });
    t.equal(unknown.statusCode, 404);
    t.match(unknown.json(), { code: 'route_not_found' });
    t.notOk(unknown.headers.allow);
  });
});
