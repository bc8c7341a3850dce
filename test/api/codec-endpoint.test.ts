// The codec endpoint (/codec/encode, /codec/decode): Temporal's codec server protocol, the
// operator token, CORS for the Web UI, and when it is open, closed or off.
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import t from 'tap';
import { EncryptionCodec, payloadToJson } from '../../wiring/codec.ts';
import { buildTestApp } from '../helpers/app.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { TEST_API_KEY } from '../helpers/stack.ts';
import { ensureDevTenant } from '../../api/services/tenants.ts';

const TOKEN = 'codec-token-for-tests-0001';
const UI = 'http://localhost:8233';
const json = { 'content-type': 'application/json' };
const b64 = (text: string) => Buffer.from(text).toString('base64');

const samplePayloads = () => ({
  payloads: [
    payloadToJson(defaultPayloadConverter.toPayload({ applicant: 'Ada Example' })),
    payloadToJson(defaultPayloadConverter.toPayload(null)),
  ],
});

t.test('codec endpoint', async (t) => {
  const db = await createTestDatabase(t);
  await ensureDevTenant(db.db, TEST_API_KEY);

  t.test('with CODEC_AUTH_TOKEN: the token is required; encode then decode round-trips', async (t) => {
    const app = await buildTestApp(t, db, { CODEC_AUTH_TOKEN: TOKEN });
    const missing = await app.inject({ method: 'POST', url: '/codec/decode', headers: json, payload: samplePayloads() });
    t.equal(missing.statusCode, 401);
    t.match(missing.json(), { code: 'missing_codec_token', action: /Bearer/ });
    const wrong = await app.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: { ...json, authorization: 'Bearer nope' },
      payload: samplePayloads(),
    });
    t.match(wrong.json(), { status: 401, code: 'invalid_codec_token' });
    const tenantKey = await app.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: { ...json, authorization: `Bearer ${TEST_API_KEY}` },
      payload: samplePayloads(),
    });
    t.equal(tenantKey.statusCode, 401, "a tenant's API key cannot decrypt (payloads of every tenant pass through here)");

    const auth = { ...json, authorization: `Bearer ${TOKEN}`, 'x-namespace': 'default' };
    const encoded = await app.inject({ method: 'POST', url: '/codec/encode', headers: auth, payload: samplePayloads() });
    t.equal(encoded.statusCode, 200);
    const encrypted = encoded.json().payloads;
    t.equal(encrypted.length, 2);
    t.same(encrypted[0].metadata, { encoding: b64('binary/encrypted'), 'encryption-key-id': b64('dev') });
    t.notMatch(Buffer.from(encrypted[0].data, 'base64').toString('latin1'), /Ada Example/);
    const decoded = await app.inject({ method: 'POST', url: '/codec/decode', headers: auth, payload: { payloads: encrypted } });
    t.equal(decoded.statusCode, 200);
    t.same(decoded.json(), samplePayloads(), 'exactly the payloads that went in');
    const passthrough = await app.inject({ method: 'POST', url: '/codec/decode', headers: auth, payload: samplePayloads() });
    t.same(passthrough.json(), samplePayloads(), 'unencrypted payloads pass through');
  });

  t.test('a payload under a key not in the ring: 422 naming the key', async (t) => {
    const app = await buildTestApp(t, db, { CODEC_AUTH_TOKEN: TOKEN });
    const [foreign] = await new EncryptionCodec([{ id: 'retired-2024', key: randomBytes(32) }]).encode([
      defaultPayloadConverter.toPayload('x'),
    ]);
    const res = await app.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: { ...json, authorization: `Bearer ${TOKEN}` },
      payload: { payloads: [payloadToJson(foreign!)] },
    });
    t.equal(res.statusCode, 422);
    t.match(res.json(), { code: 'payload_undecryptable', detail: /'retired-2024'.*not in PAYLOAD_ENCRYPTION_KEYS/ });
    const garbage = await app.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: { ...json, authorization: `Bearer ${TOKEN}` },
      payload: { payloads: 'nope' },
    });
    t.equal(garbage.statusCode, 400);
  });

  t.test('CORS: the Web UI origin gets its preflight (x-namespace, authorization) and readable answers; others do not', async (t) => {
    const app = await buildTestApp(t, db, { CODEC_AUTH_TOKEN: TOKEN });
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/codec/decode',
      headers: {
        origin: UI,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,x-namespace',
      },
    });
    t.equal(preflight.statusCode, 204);
    t.equal(preflight.headers['access-control-allow-origin'], UI);
    t.match(preflight.headers['access-control-allow-headers'], /x-namespace/);
    t.match(preflight.headers['access-control-allow-headers'], /authorization/);
    t.match(preflight.headers['access-control-allow-methods'], /POST/);
    t.equal(preflight.headers['access-control-allow-credentials'], 'true');
    const other = await app.inject({
      method: 'OPTIONS',
      url: '/codec/decode',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    t.equal(other.statusCode, 403);
    t.notOk(other.headers['access-control-allow-origin']);
    const denied = await app.inject({ method: 'POST', url: '/codec/decode', headers: { ...json, origin: UI }, payload: samplePayloads() });
    t.equal(denied.statusCode, 401);
    t.equal(denied.headers['access-control-allow-origin'], UI, 'the UI can read why it was refused');
    const ok = await app.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: { ...json, origin: 'http://127.0.0.1:8233', authorization: `Bearer ${TOKEN}` },
      payload: samplePayloads(),
    });
    t.equal(ok.statusCode, 200);
    t.equal(ok.headers['access-control-allow-origin'], 'http://127.0.0.1:8233');
    t.match(ok.headers.vary, /Origin/);

    const custom = await buildTestApp(t, db, { CODEC_AUTH_TOKEN: TOKEN, CODEC_CORS_ORIGINS: 'https://temporal-ui.internal.example' });
    const fromCustom = await custom.inject({
      method: 'OPTIONS',
      url: '/codec/encode',
      headers: { origin: 'https://temporal-ui.internal.example', 'access-control-request-method': 'POST' },
    });
    t.equal(fromCustom.headers['access-control-allow-origin'], 'https://temporal-ui.internal.example');
    t.equal(
      (await custom.inject({ method: 'OPTIONS', url: '/codec/encode', headers: { origin: UI } })).statusCode,
      403,
      'the defaults are replaced',
    );
  });

  t.test('without a token: open only with the public dev key; off in production and with real keys', async (t) => {
    const dev = await buildTestApp(t, db, {});
    const open = await dev.inject({ method: 'POST', url: '/codec/encode', headers: json, payload: samplePayloads() });
    t.equal(open.statusCode, 200, 'development with the built-in dev key: the UI of npm run dev decodes without a token');

    const keys = `k1:${randomBytes(32).toString('base64')}`;
    const realKeys = await buildTestApp(t, db, { PAYLOAD_ENCRYPTION_KEYS: keys });
    const closed = await realKeys.inject({ method: 'POST', url: '/codec/decode', headers: json, payload: samplePayloads() });
    t.equal(closed.statusCode, 403);
    t.match(closed.json(), { code: 'codec_disabled', action: /CODEC_AUTH_TOKEN/ });

    const production = await buildTestApp(t, db, {
      NODE_ENV: 'production',
      PAYLOAD_ENCRYPTION_KEYS: keys,
      PUBLIC_BASE_URL: 'https://vf.example',
    });
    const off = await production.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: { ...json, authorization: `Bearer ${TEST_API_KEY}` },
      payload: samplePayloads(),
    });
    t.equal(off.statusCode, 403);
    t.match(off.json(), { code: 'codec_disabled' });
  });

  t.test('the routes are in the OpenAPI document', async (t) => {
    const app = await buildTestApp(t, db, { CODEC_AUTH_TOKEN: TOKEN });
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    t.ok(doc.paths['/codec/decode']?.post);
    t.ok(doc.paths['/codec/encode']?.post);
  });
});
