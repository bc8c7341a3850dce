import { type IncomingHttpHeaders } from 'node:http';
import { Signature } from 'smile-identity-core';
import t from 'tap';
import { ProviderRequestError } from '../../providers/errors.ts';
import { createSmileIdClient, retryAfterMs, SMILE_LINK_TTL_MS } from '../../providers/smileid/client.ts';
import { json, startApiDouble, type Reply } from '../helpers/api-double.ts';

const smileIdDouble = startApiDouble;

const partnerId = '0421';
const apiKey = 'smileid_client_test_key';
const now = new Date('2025-03-14T10:00:00.000Z');
const verificationId = '7e9a1c3b-2d4f-4a6b-8c0d-1e2f3a4b5c6d';
const callbackUrl = 'https://veriflow.example/webhooks/smileid';
const config = (apiUrl: string) => ({ apiUrl, partnerId, apiKey, callbackUrl });

/** A job_status answer signed the way SmileID signs it (the SDK's scheme). */
function jobStatus(result: Record<string, unknown> | null, extra: Record<string, unknown> = {}, key = apiKey) {
  const timestamp = new Date().toISOString();
  return {
    timestamp,
    signature: new Signature(partnerId, key).generate_signature(timestamp).signature,
    job_complete: true,
    job_success: false,
    result: result === null ? null : { PartnerParams: { job_id: verificationId, user_id: verificationId, job_type: 1 }, ...result },
    ...extra,
  };
}

async function rejection(promise: Promise<unknown>): Promise<ProviderRequestError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProviderRequestError) return error;
    throw error;
  }
  throw new Error('expected a ProviderRequestError');
}

t.test('createLink sends a signed, single-use, 24 h link for our job id and returns the session', async (tt) => {
  const smile = await smileIdDouble(tt);
  smile.reply(json(201, { link: 'https://links.usesmileid.com/0421/abc', ref_id: 'abc' }));
  const client = createSmileIdClient(config(smile.apiUrl), { dispatcher: smile.dispatcher, now: () => now });

  const session = await client.createLink({ verificationId, templateId: null, idempotencyKey: `veriflow-session-${verificationId}` });

  tt.same(session, {
    providerRef: verificationId,
    sessionUrl: 'https://links.usesmileid.com/0421/abc',
    expiresAt: '2025-03-15T10:00:00.000Z',
    providerStatus: 'not_found',
    status: 'pending',
  });
  const [sent] = smile.requests;
  tt.equal(sent?.method, 'POST');
  tt.equal(sent?.url, '/v1/smile_links');
  tt.match(sent?.headers['content-type'], /application\/json/);
  const body = JSON.parse(sent?.body ?? '{}');
  tt.match(body, {
    partner_id: partnerId,
    timestamp: now.toISOString(),
    name: `Verification ${verificationId}`,
    id_types: [{ country: 'NG', id_type: 'NIN_V2', verification_method: 'biometric_kyc' }],
    callback_url: callbackUrl,
    is_single_use: true,
    user_id: verificationId,
    partner_params: { job_id: verificationId, user_id: verificationId, job_type: 1 },
  });
  tt.equal(Date.parse(body.expires_at) - now.getTime(), SMILE_LINK_TTL_MS, 'expires_at = now + 24 h (seed 002)');
  tt.equal(SMILE_LINK_TTL_MS, 24 * 60 * 60 * 1000);
  tt.ok(new Signature(partnerId, apiKey).confirm_signature(body.timestamp, body.signature), 'the request is signed with the SDK scheme');
});

t.test('createLink: an origin with /v1 is tolerated, configured id types decide job_type, a returned expires_at wins', async (tt) => {
  const smile = await smileIdDouble(tt);
  smile.reply(json(200, { link: 'https://links.example/x', ref_id: 'x', expires_at: '2025-03-14T12:00:00.000Z' }));
  const client = createSmileIdClient(
    { ...config(`${smile.apiUrl}/v1/`), idTypes: [{ country: 'KE', id_type: 'NATIONAL_ID', verification_method: 'enhanced_kyc' }] },
    { dispatcher: smile.dispatcher, now: () => now },
  );
  const session = await client.createLink({ verificationId, templateId: 'ignored', idempotencyKey: 'k' });
  tt.equal(session.expiresAt, '2025-03-14T12:00:00.000Z');
  tt.equal(smile.requests[0]?.url, '/v1/smile_links');
  tt.match(JSON.parse(smile.requests[0]?.body ?? '{}'), { id_types: [{ country: 'KE' }], partner_params: { job_type: 5 } });
});

t.test('createLink: linkTtlMs shortens the link to the session TTL, never beyond 24 h', async (tt) => {
  const smile = await smileIdDouble(tt);
  smile.reply(json(201, { link: 'https://links.example/y', ref_id: 'y' }));
  for (const [linkTtlMs, expected] of [
    [3_000, 3_000],
    [48 * 60 * 60 * 1000, SMILE_LINK_TTL_MS],
  ] as const) {
    const client = createSmileIdClient({ ...config(smile.apiUrl), linkTtlMs }, { dispatcher: smile.dispatcher, now: () => now });
    const session = await client.createLink({ verificationId, templateId: null, idempotencyKey: 'k' });
    tt.equal(Date.parse(session.expiresAt ?? '') - now.getTime(), expected, `linkTtlMs ${linkTtlMs}`);
    tt.equal(
      Date.parse(JSON.parse(smile.requests.at(-1)?.body ?? '{}').expires_at) - now.getTime(),
      expected,
      'and the link is created so',
    );
  }
});

t.test('createLink: a 2xx without link and ref_id is a non-retryable failure', async (tt) => {
  const smile = await smileIdDouble(tt);
  smile.reply(json(200, { ok: true }));
  const client = createSmileIdClient(config(smile.apiUrl), { dispatcher: smile.dispatcher, now: () => now });
  const error = await rejection(client.createLink({ verificationId, templateId: null, idempotencyKey: 'k' }));
  tt.match(error.details, { provider: 'smileid', status: 200, retryable: false });
  tt.match(error.message, /without link and ref_id/);
});

t.test('fetchJobStatus posts the SDK body and maps the confirmed result code', async (tt) => {
  const smile = await smileIdDouble(tt);
  smile.reply(json(200, jobStatus({ ResultCode: '1013', ResultText: 'ID Number Not Found', SmileJobID: '0000000007' })));
  const client = createSmileIdClient(config(smile.apiUrl), { dispatcher: smile.dispatcher, now: () => now });

  const state = await client.fetchJobStatus(verificationId);

  tt.same(state, {
    providerRef: verificationId,
    providerStatus: '1013',
    status: 'declined',
    updatedAt: null,
    reasons: ['id_not_verified'],
    document: null,
  });
  const [sent] = smile.requests;
  tt.equal(sent?.url, '/v1/job_status');
  const body = JSON.parse(sent?.body ?? '{}');
  tt.match(body, {
    partner_id: partnerId,
    user_id: verificationId,
    job_id: verificationId,
    history: false,
    image_links: false,
    timestamp: now.toISOString(),
  });
  tt.ok(new Signature(partnerId, apiKey).confirm_signature(body.timestamp, body.signature));
});

t.test('fetchJobStatus: every state a job can be in', async (tt) => {
  const smile = await smileIdDouble(tt);
  const client = createSmileIdClient(config(smile.apiUrl), { dispatcher: smile.dispatcher, now: () => now });
  const cases: [reply: Reply, providerStatus: string, status: string, what: string][] = [
    [json(200, jobStatus({ ResultCode: '1012' })), '1012', 'approved', 'approved'],
    [json(200, jobStatus({ ResultCode: '0814' }, { job_complete: false })), '0814', 'needs_review', 'provisional result before completion'],
    [json(200, jobStatus({ ResultCode: '7777' })), '7777', 'needs_review', 'unknown code'],
    [json(200, jobStatus(null, { job_complete: false })), 'processing', 'in_progress', 'still processing'],
    [json(200, jobStatus({ ResultText: 'done?' })), 'unknown', 'needs_review', 'complete without a code'],
    [json(404, { error: 'No job found' }), 'not_found', 'pending', 'no job yet (JSON 404)'],
  ];
  for (const [reply, providerStatus, status, what] of cases) {
    smile.reply(reply);
    tt.match(await client.fetchJobStatus(verificationId), { providerStatus, status }, what);
  }
});

t.test('fetchJobStatus: a response we cannot trust is a non-retryable failure', async (tt) => {
  const smile = await smileIdDouble(tt);
  const client = createSmileIdClient(config(smile.apiUrl), { dispatcher: smile.dispatcher, now: () => now });
  const cases: [reply: Reply, message: RegExp, what: string][] = [
    [json(200, jobStatus({ ResultCode: '1012' }, {}, 'someone_elses_key')), /signature that does not match/, 'signed with another key'],
    [json(200, { ...jobStatus({ ResultCode: '1012' }), signature: undefined }), /signature that does not match/, 'unsigned'],
    [json(200, jobStatus({ ResultCode: '1012', PartnerParams: { job_id: 'another-job' } })), /for job another-job/, 'about another job'],
    [json(200, [1, 2]), /without a JSON object/, 'not an object'],
    [
      (res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>'),
      /answered 404/,
      'an HTML 404 (wrong URL), not "no job yet"',
    ],
  ];
  for (const [reply, message, what] of cases) {
    smile.reply(reply);
    const error = await rejection(client.fetchJobStatus(verificationId));
    tt.match(error.message, message, what);
    tt.equal(error.details.retryable, false, `${what}: not retryable`);
  }
});

t.test('HTTP failures: 429 and 5xx retryable with Retry-After, 400 not, network errors retryable', async (tt) => {
  const smile = await smileIdDouble(tt);
  const client = createSmileIdClient(config(smile.apiUrl), { dispatcher: smile.dispatcher, now: () => now });

  smile.reply(json(429, { error: 'Too many requests' }, { 'retry-after': '7' }));
  let error = await rejection(client.fetchJobStatus(verificationId));
  tt.same(error.details, { provider: 'smileid', status: 429, retryable: true, retryAfterMs: 7000 });
  tt.equal(error.code, 'VF_PROVIDER_REQUEST');

  smile.reply(json(429, {}, { 'retry-after': new Date(now.getTime() + 30_000).toUTCString() }));
  error = await rejection(client.createLink({ verificationId, templateId: null, idempotencyKey: 'k' }));
  tt.same(error.details, { provider: 'smileid', status: 429, retryable: true, retryAfterMs: 30_000 });

  smile.reply(json(400, { code: '2213', error: 'A required parameter is missing' }));
  error = await rejection(client.createLink({ verificationId, templateId: null, idempotencyKey: 'k' }));
  tt.same(error.details, { provider: 'smileid', status: 400, retryable: false, retryAfterMs: null });
  tt.equal(error.message, 'SmileID POST /v1/smile_links answered 400: 2213 A required parameter is missing');

  smile.reply(json(401, { code: '2205', error: "You're not authorized to do that" }));
  error = await rejection(client.fetchJobStatus(verificationId));
  tt.match(error.details, { status: 401, retryable: false });

  smile.reply((res) => res.writeHead(503).end('unavailable'));
  error = await rejection(client.fetchJobStatus(verificationId));
  tt.match(error.details, { status: 503, retryable: true, retryAfterMs: null });

  const closed = createSmileIdClient(config('http://127.0.0.1:9'), { now: () => now, timeoutMs: 2000 });
  error = await rejection(closed.fetchJobStatus(verificationId));
  tt.match(error.details, { status: null, retryable: true });
  tt.match(error.message, /SmileID POST \/v1\/job_status failed: ECONNREFUSED/);
});

t.test('retryAfterMs', async (tt) => {
  tt.equal(retryAfterMs({ 'retry-after': '3' }, now), 3000);
  tt.equal(retryAfterMs({ 'retry-after': ['4', '5'] } as unknown as IncomingHttpHeaders, now), 4000, 'a repeated header: the first');
  tt.equal(retryAfterMs({ 'retry-after': new Date(now.getTime() - 5000).toUTCString() }, now), 0, 'a past date means now');
  tt.equal(retryAfterMs({ 'retry-after': 'soon' }, now), null);
  tt.equal(retryAfterMs({}, now), null);
});
