// A corpus of bad and odd input against every route: oversized, wrong content type, malformed
// and deeply nested JSON, huge strings, unicode edge cases, SQL- and HTML-looking strings. The
// process stays up, every rejection is problem+json, nothing is stored from a rejected request,
// and odd-but-valid strings come back verbatim.
import type { InjectOptions } from 'fastify';
import t from 'tap';
import { verifications, webhookEvents } from '../../db/schema/index.js';
import { TEST_API_KEY, startStack } from '../helpers/stack.js';

const auth = { authorization: `Bearer ${TEST_API_KEY}` };
const json = { 'content-type': 'application/json' };

t.test('bad input corpus', async (t) => {
  const stack = await startStack(t, { worker: false });
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

  t.test('odd but valid strings are stored and returned verbatim', async (t) => {
    const odd = {
      sql: "Robert'); DROP TABLE verifications;--",
      html: '<script>alert("x")</script><img src=x onerror=alert(1)>',
      unicode: 'Zoë 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 👩🏽‍💻 \u202Eevil\u202C 日本語 ‮',
      zeroWidth: 'a\u200Bb\uFEFFc',
      combining: 'e\u0301',
      nulLike: '\\u0000 literally',
    };
    const created = await stack.app.inject({
      method: 'POST',
      url: '/v1/verifications',
      headers: { ...auth, ...json },
      payload: { provider: 'persona', reference: odd.sql, metadata: odd },
    });
    t.equal(created.statusCode, 202);
    const read = await stack.app.inject({ method: 'GET', url: `/v1/verifications/${created.json().id}`, headers: auth });
    t.equal(read.json().reference, odd.sql, 'SQL-looking reference verbatim');
    t.same(read.json().metadata, odd, 'HTML, unicode, bidi and zero-width strings verbatim');
    const listed = await stack.app.inject({
      method: 'GET',
      url: `/v1/verifications?reference=${encodeURIComponent(odd.sql)}`,
      headers: auth,
    });
    t.equal(listed.json().data.length, 1, 'and findable by that exact reference');
  });

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
