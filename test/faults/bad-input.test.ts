// A corpus of bad and odd input against every route: oversized, wrong content type, malformed
// and deeply nested JSON, huge strings, unicode edge cases, SQL- and HTML-looking strings. The
// process stays up, every rejection is problem+json, and nothing is stored from a rejected
// request. None of it reaches Temporal, so the app runs alone; that odd-but-valid strings come
// back verbatim needs a created verification, so it is tested with the verification routes.
import type { InjectOptions } from 'fastify';
import t from 'tap';
import { verifications, webhookEvents } from '../../db/schema/index.ts';
import { startTestApp } from '../helpers/app.ts';
import { TEST_API_KEY } from '../helpers/test-env.ts';

const auth = { authorization: `Bearer ${TEST_API_KEY}` };
const json = { 'content-type': 'application/json' };

t.test('bad input corpus', async (t) => {
  const stack = await startTestApp(t);
  const counts = async () => ({
    verifications: await stack.database.db.$count(verifications),
    webhooks: await stack.database.db.$count(webhookEvents),
  });
  const before = await counts();
  let rejected = 0;

  const expectProblem = async (name: string, request: InjectOptions, status: number) => {
    const res = await stack.app.inject(request);
    t.equal(res.statusCode, status, `${name} -> ${status}`);
    t.match(res.headers['content-type'], /^application\/problem\+json/, `${name}: problem+json`);
    t.match(res.json(), { status, code: /.+/, detail: /.+/, correlationId: /.+/ }, `${name}: problem fields`);
    rejected += 1;
  };

  const huge = 'x'.repeat(1024 * 1024 + 10);
  const deep = '['.repeat(5000) + ']'.repeat(5000);
  for (const url of ['/v1/verifications', '/webhooks/persona']) {
    const headers = url.startsWith('/v1') ? auth : {};
    await expectProblem(
      `${url} oversized`,
      { method: 'POST', url, headers: { ...headers, ...json }, payload: `{"provider":"${huge}"}` },
      413,
    );
    await expectProblem(
      `${url} text/plain`,
      { method: 'POST', url, headers: { ...headers, 'content-type': 'text/plain' }, payload: 'hello' },
      415,
    );
    await expectProblem(
      `${url} form encoded`,
      { method: 'POST', url, headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=b' },
      415,
    );
  }
  await expectProblem(
    'create malformed JSON',
    { method: 'POST', url: '/v1/verifications', headers: { ...auth, ...json }, payload: '{"provider": "persona",' },
    400,
  );
  await expectProblem(
    'create deep nesting',
    { method: 'POST', url: '/v1/verifications', headers: { ...auth, ...json }, payload: `{"provider":"persona","metadata":{"a":${deep}}}` },
    400,
  );
  await expectProblem(
    'create JSON array body',
    { method: 'POST', url: '/v1/verifications', headers: { ...auth, ...json }, payload: '[]' },
    400,
  );
  await expectProblem(
    'create reference too long',
    {
      method: 'POST',
      url: '/v1/verifications',
      headers: { ...auth, ...json },
      payload: { provider: 'persona', reference: 'r'.repeat(10_000) },
    },
    400,
  );
  await expectProblem(
    'create __proto__ pollution',
    {
      method: 'POST',
      url: '/v1/verifications',
      headers: { ...auth, ...json },
      payload: '{"provider":"persona","__proto__":{"admin":true}}',
    },
    400,
  );
  await expectProblem('get malformed id', { method: 'GET', url: "/v1/verifications/1';drop table verifications;--", headers: auth }, 400);
  await expectProblem(
    'review bad decision',
    {
      method: 'POST',
      url: '/v1/verifications/00000000-0000-4000-8000-000000000000/review',
      headers: { ...auth, ...json },
      payload: { decision: 'maybe', reason: 'x' },
    },
    400,
  );
  await expectProblem('webhook unknown provider', { method: 'POST', url: '/webhooks/acme', headers: json, payload: '{}' }, 400);
  await expectProblem(
    'webhook malformed JSON, no signature',
    { method: 'POST', url: '/webhooks/persona', headers: json, payload: '{"data":' },
    401,
  );
  await expectProblem('webhook empty body', { method: 'POST', url: '/webhooks/persona', headers: json, payload: '' }, 401);

  t.same(await counts(), before, 'nothing stored from any rejected request');
  t.comment(`rejected=${rejected} stored=0`);

  const live = await stack.app.inject({ method: 'GET', url: '/health/live' });
  t.equal(live.statusCode, 200, 'the process is still up');

  t.test('NUL characters are refused with a 400, not a database error', async (t) => {
    const before = await counts();
    await expectProblem(
      'create with NUL',
      {
        method: 'POST',
        url: '/v1/verifications',
        headers: { ...auth, ...json },
        payload: '{"provider":"persona","reference":"a\\u0000b"}',
      },
      400,
    );
    t.same(await counts(), before);
  });
});
