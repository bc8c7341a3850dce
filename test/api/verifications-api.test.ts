// Contract tests for the verification routes against the real stack (Postgres + Temporal).
import { Client, Connection } from '@temporalio/client';
import { pino } from 'pino';
import { Validator } from '@seriousme/openapi-schema-validator';
import t from 'tap';
import { buildApp } from '../../api/app.ts';
import { createTenant } from '../../api/services/tenants.ts';
import { timersFromEnv } from '../../config/env.ts';
import { verifications } from '../../db/schema/index.ts';
import { providersFromEnv } from '../../wiring/providers.ts';
import { TEST_API_KEY, startStack } from '../helpers/stack.ts';

t.test('verification routes', async (t) => {
  const stack = await startStack(t);
  const json = { 'content-type': 'application/json' };

  t.test('auth: missing or unknown key is 401 problem+json; X-API-Key works too', async (t) => {
    const missing = await stack.app.inject({ method: 'GET', url: '/v1/verifications/00000000-0000-4000-8000-000000000000' });
    t.equal(missing.statusCode, 401);
    t.match(missing.json(), { code: 'missing_api_key', status: 401, correlationId: /.+/, action: /Authorization/ });
    const wrong = await stack.app.inject({
      method: 'GET',
      url: '/v1/verifications/00000000-0000-4000-8000-000000000000',
      headers: { authorization: 'Bearer nope_nope_nope' },
    });
    t.match(wrong.json(), { code: 'invalid_api_key' });
    const viaHeader = await stack.app.inject({
      method: 'GET',
      url: '/v1/verifications/00000000-0000-4000-8000-000000000000',
      headers: { 'x-api-key': TEST_API_KEY },
    });
    t.equal(viaHeader.statusCode, 404, 'authenticated, then not found');
  });

  t.test('create without waiting: 202 with links and no session yet; Location header set', async (t) => {
    const res = await stack.request('POST', '/v1/verifications', { provider: 'persona', reference: 'u-1', metadata: { plan: 'gold' } });
    t.equal(res.status, 202);
    t.match(res.body, {
      status: 'created',
      provider: 'persona',
      reference: 'u-1',
      sessionUrl: null,
      statusUrl: new RegExp(`/v1/verifications/${res.body.id}$`),
      eventsUrl: /\/events$/,
    });
    t.match(res.headers.location, res.body.id);
    const read = await stack.request('GET', `/v1/verifications/${res.body.id}`);
    t.same(read.body.metadata, { plan: 'gold' }, 'metadata returned as given');
  });

  t.test('bad input: unknown provider 400 naming it; schema violation 400 naming the field; wrong content type 415', async (t) => {
    const unknown = await stack.request('POST', '/v1/verifications', { provider: 'acme' });
    t.equal(unknown.status, 400);
    t.match(unknown.body, { code: 'unknown_provider', detail: /acme/ });
    const bad = await stack.request('POST', '/v1/verifications', { provider: 'persona', applicant: { email: 'not-an-email' } });
    t.equal(bad.status, 400);
    t.match(bad.body, { code: 'validation_failed', detail: /applicant\.email/ });
    const extra = await stack.request('POST', '/v1/verifications', { provider: 'persona', colour: 'blue' });
    t.equal(extra.status, 400, 'unknown fields are rejected, not silently dropped');
    const text = await stack.app.inject({
      method: 'POST',
      url: '/v1/verifications',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'text/plain' },
      payload: 'provider=persona',
    });
    t.equal(text.statusCode, 415);
    t.equal(text.headers['content-type'], 'application/problem+json; charset=utf-8');
    const malformed = await stack.app.inject({
      method: 'POST',
      url: '/v1/verifications',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, ...json },
      payload: '{"provider":',
    });
    t.equal(malformed.statusCode, 400);
    t.match(malformed.json(), { status: 400, correlationId: /.+/ });
  });

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
      headers: { authorization: `Bearer ${TEST_API_KEY}`, ...json },
      payload: { provider: 'persona', reference: odd.sql, metadata: odd },
    });
    t.equal(created.statusCode, 202);
    const read = await stack.app.inject({
      method: 'GET',
      url: `/v1/verifications/${created.json().id}`,
      headers: { authorization: `Bearer ${TEST_API_KEY}` },
    });
    t.equal(read.json().reference, odd.sql, 'SQL-looking reference verbatim');
    t.same(read.json().metadata, odd, 'HTML, unicode, bidi and zero-width strings verbatim');
    const listed = await stack.app.inject({
      method: 'GET',
      url: `/v1/verifications?reference=${encodeURIComponent(odd.sql)}`,
      headers: { authorization: `Bearer ${TEST_API_KEY}` },
    });
    t.equal(listed.json().data.length, 1, 'and findable by that exact reference');
  });

  t.test('idempotency: same key + same body -> same verification; different body -> 422', async (t) => {
    const key = { 'idempotency-key': 'order-77' };
    const first = await stack.request('POST', '/v1/verifications', { provider: 'persona', reference: 'r-77' }, key);
    const again = await stack.request('POST', '/v1/verifications', { reference: 'r-77', provider: 'persona' }, key);
    t.equal(again.body.id, first.body.id, 'key order in the body does not matter');
    const other = await stack.request('POST', '/v1/verifications', { provider: 'persona', reference: 'r-78' }, key);
    t.equal(other.status, 422);
    t.match(other.body, { code: 'idempotency_key_reused' });
  });

  t.test('idempotency race: 20 concurrent creates with one key -> one verification', async (t) => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        stack.request('POST', '/v1/verifications', { provider: 'persona', reference: 'race' }, { 'idempotency-key': 'race-1' }),
      ),
    );
    t.same([...new Set(results.map((r) => r.status))], [202]);
    t.equal(new Set(results.map((r) => r.body.id)).size, 1, 'every response names the same verification');
    const rows = await stack.database.db.select().from(verifications);
    t.equal(rows.filter((r) => r.idempotencyKey === 'race-1').length, 1);
  });

  t.test("tenant isolation: another tenant's verification is 404", async (t) => {
    const other = await createTenant(stack.database.db, 'other-tenant');
    const mine = await stack.request('POST', '/v1/verifications', { provider: 'persona' });
    const theirs = await stack.request('GET', `/v1/verifications/${mine.body.id}`, undefined, { authorization: `Bearer ${other.apiKey}` });
    t.equal(theirs.status, 404);
    const cancel = await stack.request('POST', `/v1/verifications/${mine.body.id}/cancel`, {}, { authorization: `Bearer ${other.apiKey}` });
    t.equal(cancel.status, 404);
  });

  t.test('correlation id: echoed when sent, generated otherwise', async (t) => {
    const echoed = await stack.app.inject({ method: 'GET', url: '/health/live', headers: { 'x-correlation-id': 'abc-123' } });
    t.equal(echoed.headers['x-correlation-id'], 'abc-123');
    const generated = await stack.app.inject({ method: 'GET', url: '/health/live' });
    t.match(generated.headers['x-correlation-id'], /^[0-9a-f-]{36}$/);
  });

  t.test('health and docs', async (t) => {
    const ready = await stack.app.inject({ method: 'GET', url: '/health/ready' });
    t.equal(ready.statusCode, 200);
    t.match(ready.json(), { status: 'ok', checks: { database: { ok: true }, temporal: { ok: true }, worker: { ok: true } } });
    t.same([...ready.json().providers].sort(), ['idmeta', 'persona', 'smileid', 'stripe'], 'the configured providers');
    const spec = await stack.app.inject({ method: 'GET', url: '/openapi.json' });
    t.equal(spec.json().openapi, '3.1.0');
    const validation = await new Validator().validate(spec.json());
    t.same(validation.errors ?? [], [], '/openapi.json validates against the OpenAPI 3.1 schema');
    t.equal(validation.valid, true);
    t.ok(spec.json().paths['/v1/verifications'], 'routes documented');
    const missing = await stack.app.inject({ method: 'GET', url: '/nope' });
    t.match(missing.json(), { status: 404, code: 'route_not_found' });
  });

  t.test('metrics: Prometheus text with create latency and webhook outcomes', async (t) => {
    await stack.request('POST', '/v1/verifications', { provider: 'persona' });
    const forged = await stack.app.inject({
      method: 'POST',
      url: '/webhooks/persona',
      headers: { ...json, 'persona-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}` },
      payload: '{}',
    });
    t.equal(forged.statusCode, 401);
    const res = await stack.app.inject({ method: 'GET', url: '/metrics' });
    t.equal(res.statusCode, 200);
    t.match(res.headers['content-type'], /^text\/plain/);
    t.match(res.body, /veriflow_create_seconds_count [1-9]/);
    t.match(res.body, /veriflow_webhooks_received_total\{provider="persona",outcome="invalid"\} 1/);
    t.match(res.body, /veriflow_webhook_ack_seconds_count\{provider="persona"\} [1-9]/);
    t.match(res.body, /veriflow_process_resident_memory_bytes/);
  });

  t.test('Temporal unreachable: 503, nothing half-created, and a retry with the same key works later', async (t) => {
    const connection = Connection.lazy({ address: '127.0.0.1:1' });
    t.teardown(() => connection.close());
    const downApp = await buildApp({
      env: stack.env,
      database: stack.database,
      temporal: new Client({ connection }),
      providers: providersFromEnv(stack.env),
      timers: timersFromEnv(stack.env),
      logger: pino({ level: 'silent' }),
      defaultTemplates: {},
    });
    t.teardown(() => downApp.close());
    const before = (await stack.database.db.select().from(verifications)).length;
    const res = await downApp.inject({
      method: 'POST',
      url: '/v1/verifications',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, ...json, 'idempotency-key': 'outage-1' },
      payload: { provider: 'persona' },
    });
    t.equal(res.statusCode, 503);
    t.match(res.json(), { code: 'temporal_unavailable', action: /same Idempotency-Key/ });
    t.equal((await stack.database.db.select().from(verifications)).length, before, 'no row left behind');
    const retry = await stack.request('POST', '/v1/verifications', { provider: 'persona' }, { 'idempotency-key': 'outage-1' });
    t.equal(retry.status, 202);
    const notReady = await downApp.inject({ method: 'GET', url: '/health/ready' });
    t.equal(notReady.statusCode, 503);
    t.match(notReady.json(), { status: 'unavailable', checks: { database: { ok: true }, temporal: { ok: false } } });
  });
});
