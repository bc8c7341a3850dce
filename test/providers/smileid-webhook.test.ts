import { Signature } from 'smile-identity-core';
import t from 'tap';
import { parseEnv } from '../../config/env.ts';
import { MalformedWebhookError, WebhookSignatureError } from '../../providers/errors.ts';
import { createSmileIdAdapter } from '../../providers/smileid/index.ts';
import { parseSmileIdWebhook, SMILEID_CALLBACK_EVENT_TYPE } from '../../providers/smileid/webhook.ts';
import { providerConfigFromEnv, providersFromEnv } from '../../wiring/providers.ts';

const partnerId = '0421';
const apiKey = 'smileid_unit_test_api_key';
const verificationId = '5d2c7a4e-1b3f-4c8d-9e6a-0f1b2c3d4e5f';
const timestamp = '2025-03-14T10:00:00.000Z';

function callback(overrides: Record<string, unknown> = {}) {
  return {
    ResultCode: '1012',
    ResultText: 'ID Number Validated',
    ResultType: 'ID Verification',
    SmileJobID: '0000000324',
    PartnerParams: { job_id: verificationId, user_id: verificationId, job_type: 1 },
    IsFinalResult: 'true',
    ConfidenceValue: '100',
    FullName: 'Not Trusted',
    IDNumber: '00000000000',
    timestamp,
    signature: new Signature(partnerId, apiKey).generate_signature(timestamp).signature,
    ...overrides,
  };
}
const raw = (body: unknown) => Buffer.from(JSON.stringify(body));

t.test('a callback normalizes to our verification, its status and a derived event id', async (t) => {
  t.same(parseSmileIdWebhook(raw(callback())), {
    providerEventId: `0000000324:1012:${timestamp}`,
    eventType: SMILEID_CALLBACK_EVENT_TYPE,
    occurredAt: timestamp,
    verificationId,
    providerRef: verificationId,
    providerStatus: '1012',
    status: 'approved',
    reasons: [],
    document: null,
  });
});

t.test('the event id: same callback same id, a new decision or a re-signed retry a new one', async (t) => {
  const first = parseSmileIdWebhook(raw(callback())).providerEventId;
  t.equal(parseSmileIdWebhook(raw(callback({ ConfidenceValue: '99' }))).providerEventId, first, 'fields outside the key do not matter');
  t.not(parseSmileIdWebhook(raw(callback({ ResultCode: '1013' }))).providerEventId, first, 'another result');
  t.not(parseSmileIdWebhook(raw(callback({ timestamp: '2025-03-14T10:00:05.000Z' }))).providerEventId, first, 'another time');
  t.equal(
    parseSmileIdWebhook(raw(callback({ timestamp: '2025-03-14T11:00:00+01:00' }))).providerEventId,
    first,
    'the same instant spelled differently',
  );
  t.equal(
    parseSmileIdWebhook(raw(callback({ SmileJobID: undefined }))).providerEventId,
    `job_id=${verificationId}:1012:${timestamp}`,
    'no SmileJobID: the partner job id stands in',
  );
});

t.test('routing: only a UUID job_id is taken for our verification id', async (t) => {
  const upper = parseSmileIdWebhook(raw(callback({ PartnerParams: { job_id: verificationId.toUpperCase(), user_id: 'u', job_type: 1 } })));
  t.equal(upper.verificationId, verificationId);
  const portal = parseSmileIdWebhook(raw(callback({ PartnerParams: { job_id: 'job-from-portal-42', user_id: 'u', job_type: 1 } })));
  t.equal(portal.verificationId, null);
  t.equal(portal.providerRef, 'job-from-portal-42', 'still routable by providerRef');
  const none = parseSmileIdWebhook(raw(callback({ PartnerParams: undefined })));
  t.equal(none.verificationId, null);
  t.equal(none.providerRef, null);
});

t.test('statuses: codes through the table, v3 status as fallback, nothing to act on without either', async (t) => {
  t.match(parseSmileIdWebhook(raw(callback({ ResultCode: '0814' }))), {
    providerStatus: '0814',
    status: 'needs_review',
    reasons: ['provisional_under_review'],
  });
  t.match(parseSmileIdWebhook(raw(callback({ ResultCode: '4242' }))), {
    providerStatus: '4242',
    status: 'needs_review',
    reasons: ['unknown_result_code'],
  });
  t.match(parseSmileIdWebhook(raw(callback({ ResultCode: undefined, status: 'block' }))), { providerStatus: 'block', status: 'declined' });
  t.match(parseSmileIdWebhook(raw(callback({ ResultCode: undefined }))), { providerStatus: null, status: null, reasons: [] });
});

t.test('malformed callbacks', async (t) => {
  t.throws(() => parseSmileIdWebhook(Buffer.from('nope')), MalformedWebhookError);
  t.throws(() => parseSmileIdWebhook(Buffer.from('"a string"')), MalformedWebhookError);
  t.throws(() => parseSmileIdWebhook(raw(callback({ timestamp: undefined }))), /no valid timestamp/);
  t.throws(() => parseSmileIdWebhook(raw(callback({ timestamp: 'last tuesday' }))), /no valid timestamp/);
  t.throws(
    () => parseSmileIdWebhook(raw(callback({ SmileJobID: undefined, PartnerParams: {} }))),
    /neither SmileJobID nor PartnerParams.job_id/,
  );
});

t.test('the adapter: capabilities, and the signature check on the body (headers play no part)', async (t) => {
  const adapter = createSmileIdAdapter({
    apiUrl: 'http://127.0.0.1:9',
    partnerId,
    apiKey,
    callbackUrl: 'http://127.0.0.1:3000/webhooks/smileid',
  });
  t.equal(adapter.name, 'smileid');
  t.same(adapter.capabilities, {
    fetchBeforeApply: true,
    bodySigned: false,
    polling: true,
    reverification: false,
    sessionExpiry: true,
    longLived: false,
  });
  const now = new Date(Date.parse(timestamp) + 10_000);
  t.doesNotThrow(() => adapter.verifyWebhook({ rawBody: raw(callback()), headers: {} }, now));
  t.throws(() => adapter.verifyWebhook({ rawBody: raw(callback({ signature: 'AAAA' })), headers: {} }, now), WebhookSignatureError);
  t.throws(
    () => adapter.verifyWebhook({ rawBody: raw(callback()), headers: {} }, new Date(Date.parse(timestamp) + 301_000)),
    WebhookSignatureError,
  );
  t.equal(adapter.parseWebhook(raw(callback())).status, 'approved');
});

t.test('env wiring: SMILEID_* configure the adapter; the callback URL follows PUBLIC_BASE_URL; the link TTL the session TTL', async (t) => {
  t.equal(providerConfigFromEnv(parseEnv({ NODE_ENV: 'test' })).smileid, undefined, 'no credentials, no smileid');
  t.equal(
    providerConfigFromEnv(parseEnv({ NODE_ENV: 'test', SMILEID_PARTNER_ID: '0421' })).smileid,
    undefined,
    'a partner id alone is not enough',
  );
  const env = parseEnv({
    NODE_ENV: 'test',
    SMILEID_PARTNER_ID: '0421',
    SMILEID_API_KEY: 'k',
    PUBLIC_BASE_URL: 'https://vf.example/',
    VERIFY_SESSION_TTL: '2h',
  });
  t.equal(env.SMILEID_API_URL, 'https://api.smileidentity.com', 'production API by default');
  t.same(providerConfigFromEnv(env).smileid, {
    apiUrl: 'https://api.smileidentity.com',
    partnerId: '0421',
    apiKey: 'k',
    callbackUrl: 'https://vf.example/webhooks/smileid',
    linkTtlMs: 2 * 60 * 60 * 1000,
  });
  t.equal(providersFromEnv(env).get('smileid').name, 'smileid', 'registered in the provider registry');
});
