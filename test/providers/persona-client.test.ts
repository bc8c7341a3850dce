import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { ProviderRequestError } from '../../providers/errors.ts';
import { createPersonaClient, retryAfterMs } from '../../providers/persona/client.ts';
import { json, startApiDouble } from '../helpers/api-double.ts';

const personaDouble = startApiDouble;

const now = new Date('2025-03-14T10:00:00.000Z');
const config = (apiUrl: string) => ({ apiUrl, apiKey: 'persona_sandbox_key_123', templateId: 'itmpl_default' });
const verificationId = '3f1c2b9e-8d4a-4c1e-9f2b-7a6d5e4c3b21';
const createdInquiry = {
  data: {
    type: 'inquiry',
    id: 'inq_new123',
    attributes: { status: 'created', 'reference-id': verificationId, 'created-at': '2025-03-14T10:00:00.000Z' },
  },
  meta: { 'one-time-link': 'https://withpersona.com/verify?code=otl_abc', 'one-time-link-short': 'https://perso.na/abc' },
};

async function rejection(promise: Promise<unknown>): Promise<ProviderRequestError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProviderRequestError) return error;
    throw error;
  }
  throw new Error('expected a ProviderRequestError');
}

t.test('createInquiry sends the documented request and maps the session', async (tt) => {
  const persona = await personaDouble(tt);
  persona.reply(json(201, createdInquiry));
  const client = createPersonaClient(config(persona.apiUrl), { dispatcher: persona.dispatcher, now: () => now });

  const session = await client.createInquiry({ verificationId, templateId: 'itmpl_custom', idempotencyKey: `vf-${verificationId}` });

  tt.same(session, {
    providerRef: 'inq_new123',
    sessionUrl: 'https://withpersona.com/verify?code=otl_abc',
    expiresAt: '2025-03-15T10:00:00.000Z',
    providerStatus: 'created',
    status: 'created',
  });
  const [sent] = persona.requests;
  tt.equal(sent?.method, 'POST');
  tt.equal(sent?.url, '/api/v1/inquiries');
  tt.match(sent?.headers, {
    authorization: 'Bearer persona_sandbox_key_123',
    'persona-version': '2023-01-05',
    'idempotency-key': `vf-${verificationId}`,
    'content-type': 'application/json',
  });
  tt.same(JSON.parse(sent?.body ?? ''), {
    data: { attributes: { 'inquiry-template-id': 'itmpl_custom', 'reference-id': verificationId } },
    meta: { 'auto-create-one-time-link': true },
  });
});

t.test('createInquiry uses the default template and a response expires-at', async (tt) => {
  const persona = await personaDouble(tt);
  const withExpiry = structuredClone(createdInquiry) as { data: { attributes: Record<string, unknown> } };
  withExpiry.data.attributes['expires-at'] = '2025-03-14T12:00:00.000Z';
  persona.reply(json(200, withExpiry));
  // A base URL with /api/v1 (as seed 000 configured it) must not double the prefix.
  const client = createPersonaClient(config(`${persona.apiUrl}/api/v1/`), { dispatcher: persona.dispatcher, now: () => now });

  const session = await client.createInquiry({ verificationId, templateId: null, idempotencyKey: 'k1' });

  tt.equal(session.expiresAt, '2025-03-14T12:00:00.000Z');
  tt.equal(persona.requests[0]?.url, '/api/v1/inquiries');
  tt.equal(JSON.parse(persona.requests[0]?.body ?? '').data.attributes['inquiry-template-id'], 'itmpl_default');
});

t.test('fetchInquiry maps status and document from included', async (tt) => {
  const persona = await personaDouble(tt);
  const event = JSON.parse(readFileSync(new URL('../fixtures/persona/inquiry-approved.json', import.meta.url), 'utf8'));
  persona.reply(json(200, event.data.attributes.payload));
  const client = createPersonaClient(config(persona.apiUrl), { dispatcher: persona.dispatcher });

  const state = await client.fetchInquiry('inq_4xKp8sWnT2bVq9LrZc6YhJ3m');

  tt.equal(persona.requests[0]?.method, 'GET');
  tt.equal(persona.requests[0]?.url, '/api/v1/inquiries/inq_4xKp8sWnT2bVq9LrZc6YhJ3m?include=verifications,documents');
  tt.equal(persona.requests[0]?.headers['idempotency-key'], undefined, 'no idempotency key on reads');
  tt.match(state, {
    providerRef: 'inq_4xKp8sWnT2bVq9LrZc6YhJ3m',
    providerStatus: 'approved',
    status: 'approved',
    reasons: [],
    updatedAt: '2025-03-14T10:05:12.000Z',
    document: { type: 'national_id', number: 'X1234567Z', firstName: 'Alex', address: '12 Example Street, Apt 3, Madrid, Madrid, 28001' },
  });
});

t.test('fetchInquiry maps failed to declined with reason failed', async (tt) => {
  const persona = await personaDouble(tt);
  persona.reply(
    json(200, { data: { type: 'inquiry', id: 'inq_f', attributes: { status: 'failed', 'failed-at': '2025-03-14T11:00:00Z' } } }),
  );
  const client = createPersonaClient(config(persona.apiUrl), { dispatcher: persona.dispatcher });
  tt.match(await client.fetchInquiry('inq_f'), { providerStatus: 'failed', status: 'declined', reasons: ['failed'], document: null });
});

t.test('an unknown status from the API is an error, never a guess', async (tt) => {
  const persona = await personaDouble(tt);
  persona.reply(json(200, { data: { type: 'inquiry', id: 'inq_u', attributes: { status: 'quantum' } } }));
  const client = createPersonaClient(config(persona.apiUrl), { dispatcher: persona.dispatcher });
  const error = await rejection(client.fetchInquiry('inq_u'));
  tt.match(error.message, /"quantum"/);
  tt.equal(error.details.retryable, false);
});

t.test('429 with Retry-After is retryable after that delay', async (tt) => {
  const persona = await personaDouble(tt);
  persona.reply(json(429, { errors: [{ title: 'Too many requests' }] }, { 'retry-after': '7' }));
  const client = createPersonaClient(config(persona.apiUrl), { dispatcher: persona.dispatcher });
  const error = await rejection(client.createInquiry({ verificationId, templateId: null, idempotencyKey: 'k' }));
  tt.equal(error.code, 'VF_PROVIDER_REQUEST');
  tt.same(error.details, { provider: 'persona', status: 429, retryable: true, retryAfterMs: 7000 });
  tt.match(error.message, /answered 429: Too many requests/);
  tt.notMatch(error.message, /persona_sandbox_key_123/, 'never the API key');
});

t.test('400 is not retryable and carries Persona’s error title', async (tt) => {
  const persona = await personaDouble(tt);
  persona.reply(json(400, { errors: [{ title: 'Bad Request', details: 'Template itmpl_x not found' }] }));
  const client = createPersonaClient(config(persona.apiUrl), { dispatcher: persona.dispatcher });
  const error = await rejection(client.createInquiry({ verificationId, templateId: 'itmpl_x', idempotencyKey: 'k' }));
  tt.same(error.details, { provider: 'persona', status: 400, retryable: false, retryAfterMs: null });
  tt.match(error.message, /Template itmpl_x not found/);
});

t.test('503 is retryable, with or without a JSON body', async (tt) => {
  const persona = await personaDouble(tt);
  persona.reply((res) => res.writeHead(503, { 'content-type': 'text/html' }).end('<h1>down</h1>'));
  const client = createPersonaClient(config(persona.apiUrl), { dispatcher: persona.dispatcher });
  const error = await rejection(client.fetchInquiry('inq_1'));
  tt.same(error.details, { provider: 'persona', status: 503, retryable: true, retryAfterMs: null });
  tt.equal(error.message, 'Persona GET /api/v1/inquiries/inq_1 answered 503');
});

t.test('connection refused is retryable with no status', async (tt) => {
  const persona = await personaDouble(tt);
  const dead = createServer();
  await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
  const { port } = dead.address() as AddressInfo;
  await new Promise((resolve) => dead.close(resolve));
  const client = createPersonaClient(config(`http://127.0.0.1:${port}`), { dispatcher: persona.dispatcher });
  const error = await rejection(client.fetchInquiry('inq_1'));
  tt.same(error.details, { provider: 'persona', status: null, retryable: true, retryAfterMs: null });
  tt.match(error.message, /ECONNREFUSED/);
  tt.ok(error.cause, 'keeps the undici error as cause');
});

t.test('a server that never answers times out as retryable', async (tt) => {
  const persona = await personaDouble(tt);
  persona.reply(() => undefined);
  const client = createPersonaClient(config(persona.apiUrl), { dispatcher: persona.dispatcher, timeoutMs: 200 });
  const error = await rejection(client.fetchInquiry('inq_1'));
  tt.same(error.details, { provider: 'persona', status: null, retryable: true, retryAfterMs: null });
  tt.match(error.message, /UND_ERR_HEADERS_TIMEOUT/);
});

t.test('a 2xx without an inquiry is a non-retryable error', async (tt) => {
  const persona = await personaDouble(tt);
  persona.reply(json(200, { data: null }));
  const client = createPersonaClient(config(persona.apiUrl), { dispatcher: persona.dispatcher });
  const error = await rejection(client.createInquiry({ verificationId, templateId: null, idempotencyKey: 'k' }));
  tt.same(error.details, { provider: 'persona', status: 200, retryable: false, retryAfterMs: null });
});

t.test('retryAfterMs reads seconds, HTTP dates and Persona’s RateLimit-Reset', async (tt) => {
  tt.equal(retryAfterMs({ 'retry-after': '3' }, now), 3000);
  tt.equal(retryAfterMs({ 'retry-after': 'Fri, 14 Mar 2025 10:00:30 GMT' }, now), 30_000);
  tt.equal(retryAfterMs({ 'retry-after': 'Fri, 14 Mar 2025 09:00:00 GMT' }, now), 0, 'a past date means now');
  tt.equal(retryAfterMs({ 'ratelimit-reset': '53' }, now), 53_000);
  tt.equal(retryAfterMs({ 'retry-after': 'soon' }, now), null);
  tt.equal(retryAfterMs({}, now), null);
});
