import { createHmac } from 'node:crypto';
import t from 'tap';
import { WebhookSignatureError } from '../../providers/errors.ts';
import { createIdmetaAdapter } from '../../providers/idmeta/index.ts';
import { idmetaSignature, verifyIdmetaSignature } from '../../providers/idmeta/signature.ts';
import { parseIdmetaWebhook } from '../../providers/idmeta/webhook.ts';
import { MalformedWebhookError } from '../../providers/errors.ts';

const secret = 'idmeta_unit_secret';
const body = JSON.stringify({
  event_id: 'evt_1',
  event: 'verification.finalized',
  created_at: '2025-07-28T09:01:47.000000Z',
  verification: {
    id: '78e22030-2bd4-44a3-b3b6-7c203278afc6',
    template_id: 306,
    status: 2,
    status_message: 'REVIEW_NEEDED',
    metadata: { veriflow_verification_id: '3F1C2B9E-8D4A-4C1E-9F2B-7A6D5E4C3B21' },
  },
});
// Computed independently of the code under test.
const expected = createHmac('sha256', secret).update(body).digest('hex');

t.test('the signature is hex HMAC-SHA256 of the raw body', async (t) => {
  t.equal(idmetaSignature(secret, body), expected);
  t.doesNotThrow(() => verifyIdmetaSignature({ rawBody: Buffer.from(body), header: expected, secret }));
  t.doesNotThrow(() => verifyIdmetaSignature({ rawBody: body, header: expected.toUpperCase(), secret }), 'hex case does not matter');
  t.doesNotThrow(() => verifyIdmetaSignature({ rawBody: body, header: `sha256=${expected}`, secret }), 'a sha256= prefix is accepted');
});

t.test('any of several secrets (rotation) may have signed', async (t) => {
  t.doesNotThrow(() => verifyIdmetaSignature({ rawBody: body, header: expected, secret: ['new_secret', secret] }));
  t.throws(() => verifyIdmetaSignature({ rawBody: body, header: expected, secret: ['new_secret', 'other'] }), WebhookSignatureError);
});

t.test('rejects missing, malformed, wrong and body-mismatched signatures', async (t) => {
  const cases: [string | undefined, string | Buffer, RegExp][] = [
    [undefined, body, /missing/],
    ['', body, /missing/],
    ['not-hex', body, /not a hex/],
    [expected.slice(0, 62), body, /not a hex/],
    ['0'.repeat(64), body, /does not match/],
    [expected, body.replace('"status":2', '"status":3'), /does not match/],
    [expected, Buffer.from(body + ' '), /does not match/],
  ];
  for (const [header, raw, message] of cases) {
    t.throws(
      () => verifyIdmetaSignature({ rawBody: raw, header, secret }),
      { name: 'WebhookSignatureError', message },
      `${header?.slice(0, 10) ?? 'no header'}`,
    );
  }
  t.throws(
    () => verifyIdmetaSignature({ rawBody: body, header: expected, secret: '' }),
    /No IDmeta webhook secret/,
    'an empty secret verifies nothing',
  );
});

t.test('the adapter reads the X-IDmeta-Signature header case-insensitively', async (t) => {
  const adapter = createIdmetaAdapter({ apiUrl: 'http://127.0.0.1:9', apiKey: 'k', webhookSecret: [secret] });
  t.doesNotThrow(() => adapter.verifyWebhook({ rawBody: Buffer.from(body), headers: { 'X-IDmeta-Signature': expected } }));
  t.throws(
    () => adapter.verifyWebhook({ rawBody: Buffer.from(body), headers: { 'x-idmeta-signature': '0'.repeat(64) } }),
    WebhookSignatureError,
  );
  t.match(adapter.capabilities, {
    fetchBeforeApply: true,
    bodySigned: true,
    polling: true,
    reverification: false,
    sessionExpiry: false,
    longLived: false,
  });
  t.ok(adapter.steps, 'a multi-step adapter');
});

t.test('webhook bodies normalize to our verification id, the IDmeta ref and the mapped status', async (t) => {
  t.same(parseIdmetaWebhook(Buffer.from(body)), {
    providerEventId: 'evt_1',
    eventType: 'verification.finalized',
    occurredAt: '2025-07-28T09:01:47.000Z',
    verificationId: '3f1c2b9e-8d4a-4c1e-9f2b-7a6d5e4c3b21',
    providerRef: '78e22030-2bd4-44a3-b3b6-7c203278afc6',
    providerStatus: 'REVIEW_NEEDED',
    status: 'needs_review',
    reasons: [],
    document: null,
  });
  const unknownStatus = parseIdmetaWebhook(
    Buffer.from(
      JSON.stringify({
        event_id: 'evt_2',
        event: 'x',
        created_at: '2025-07-28 09:01:32',
        verification: { id: 'v1', status: 77, metadata: '{"veriflow_verification_id":"not-a-uuid"}' },
      }),
    ),
  );
  t.match(
    unknownStatus,
    { occurredAt: '2025-07-28T09:01:32.000Z', verificationId: null, providerRef: 'v1', status: null, providerStatus: null },
    'an unknown status signals nothing; a non-uuid reference matches nothing',
  );
  for (const [raw, message] of [
    ['{', /not a JSON object/],
    ['{"event":"x","created_at":"2025-01-01T00:00:00Z","verification":{"id":"v"}}', /no event_id/],
    ['{"event_id":"e","created_at":"2025-01-01T00:00:00Z","verification":{"id":"v"}}', /no event name/],
    ['{"event_id":"e","event":"x","created_at":"yesterday","verification":{"id":"v"}}', /created_at/],
    ['{"event_id":"e","event":"x","created_at":"2025-01-01T00:00:00Z"}', /names no verification/],
  ] as const) {
    t.throws(() => parseIdmetaWebhook(Buffer.from(raw)), MalformedWebhookError);
    t.throws(() => parseIdmetaWebhook(Buffer.from(raw)), { message });
  }
});
