import { readFileSync } from 'node:fs';
import t from 'tap';
import { MalformedWebhookError } from '../../providers/errors.ts';
import { parsePersonaWebhook } from '../../providers/persona/webhook.ts';

const fixture = readFileSync(new URL('../fixtures/persona/inquiry-approved.json', import.meta.url));

function event(overrides: { name?: string; status?: unknown; referenceId?: unknown; createdAt?: unknown } = {}) {
  const parsed = JSON.parse(fixture.toString('utf8'));
  const attributes = parsed.data.attributes;
  if ('name' in overrides) attributes.name = overrides.name;
  if ('createdAt' in overrides) attributes['created-at'] = overrides.createdAt;
  if ('status' in overrides) attributes.payload.data.attributes.status = overrides.status;
  if ('referenceId' in overrides) attributes.payload.data.attributes['reference-id'] = overrides.referenceId;
  return Buffer.from(JSON.stringify(parsed));
}

t.test('normalizes an inquiry.approved event', async (tt) => {
  const webhook = parsePersonaWebhook(fixture);
  tt.match(webhook, {
    providerEventId: 'evt_7Qm2VfXbQk3oR9tYc1nHs4Ld',
    eventType: 'inquiry.approved',
    occurredAt: '2025-03-14T10:05:12.345Z',
    verificationId: '3f1c2b9e-8d4a-4c1e-9f2b-7a6d5e4c3b21',
    providerRef: 'inq_4xKp8sWnT2bVq9LrZc6YhJ3m',
    providerStatus: 'approved',
    status: 'approved',
    reasons: [],
    document: { type: 'national_id', number: 'X1234567Z', lastName: 'Example', country: 'ES' },
  });
});

t.test('failed inquiries decline with reason failed', async (tt) => {
  tt.match(parsePersonaWebhook(event({ name: 'inquiry.failed', status: 'failed' })), {
    providerStatus: 'failed',
    status: 'declined',
    reasons: ['failed'],
  });
});

t.test('inquiry.transitioned takes the status from its payload', async (tt) => {
  tt.match(parsePersonaWebhook(event({ name: 'inquiry.transitioned', status: 'needs_review' })), {
    eventType: 'inquiry.transitioned',
    providerStatus: 'needs_review',
    status: 'needs_review',
  });
  tt.match(parsePersonaWebhook(event({ name: 'inquiry.transitioned', status: null })), {
    providerStatus: null,
    status: null,
  });
});

t.test('an unknown status is ignored, never approved', async (tt) => {
  tt.match(parsePersonaWebhook(event({ name: 'inquiry.something-new', status: 'something_new' })), {
    providerStatus: null,
    status: null,
    reasons: [],
    providerRef: 'inq_4xKp8sWnT2bVq9LrZc6YhJ3m',
  });
});

t.test('reference-id counts as our id only when it is a UUID', async (tt) => {
  tt.equal(parsePersonaWebhook(event({ referenceId: 'test@example.com' })).verificationId, null, 'seed 000 used emails');
  tt.equal(parsePersonaWebhook(event({ referenceId: null })).verificationId, null);
  tt.equal(
    parsePersonaWebhook(event({ referenceId: '3F1C2B9E-8D4A-4C1E-9F2B-7A6D5E4C3B21' })).verificationId,
    '3f1c2b9e-8d4a-4c1e-9f2b-7a6d5e4c3b21',
  );
});

t.test('events about other objects normalize to nothing to act on', async (tt) => {
  const body = Buffer.from(
    JSON.stringify({
      data: {
        type: 'event',
        id: 'evt_ver',
        attributes: {
          name: 'verification.passed',
          'created-at': '2025-03-14T10:03:44.000Z',
          payload: { data: { type: 'verification/government-id', id: 'ver_1', attributes: { status: 'passed' } } },
        },
      },
    }),
  );
  tt.same(parsePersonaWebhook(body), {
    providerEventId: 'evt_ver',
    eventType: 'verification.passed',
    occurredAt: '2025-03-14T10:03:44.000Z',
    verificationId: null,
    providerRef: null,
    providerStatus: null,
    status: null,
    reasons: [],
    document: null,
  });
});

t.test('rejects bodies that are not Persona events', async (tt) => {
  const valid = { type: 'event', id: 'evt_1', attributes: { name: 'inquiry.approved', 'created-at': '2025-03-14T10:05:12Z' } };
  const cases: [string, Buffer, RegExp][] = [
    ['not JSON', Buffer.from('{"data":'), /not JSON/],
    ['empty body', Buffer.alloc(0), /not JSON/],
    ['JSON array', Buffer.from('[]'), /no data object/],
    ['JSON null', Buffer.from('null'), /no data object/],
    ['data is a string', Buffer.from('{"data":"x"}'), /no data object/],
    ['no data.id', Buffer.from(JSON.stringify({ data: { ...valid, id: undefined } })), /no data\.id/],
    ['blank data.id', Buffer.from(JSON.stringify({ data: { ...valid, id: ' ' } })), /no data\.id/],
    ['no attributes', Buffer.from(JSON.stringify({ data: { ...valid, attributes: undefined } })), /no attributes/],
    ['no name', Buffer.from(JSON.stringify({ data: { ...valid, attributes: { 'created-at': '2025-03-14T10:05:12Z' } } })), /no name/],
    ['no created-at', Buffer.from(JSON.stringify({ data: { ...valid, attributes: { name: 'inquiry.approved' } } })), /created-at/],
    ['bad created-at', event({ createdAt: 'yesterday' }), /created-at/],
    ['numeric created-at', event({ createdAt: 1710410712 }), /created-at/],
  ];
  for (const [name, body, pattern] of cases) {
    tt.throws(() => parsePersonaWebhook(body), pattern, name);
    tt.throws(() => parsePersonaWebhook(body), MalformedWebhookError, `${name}: typed`);
  }
});

t.test('error code is stable', async (tt) => {
  try {
    parsePersonaWebhook(Buffer.from('nope'));
    tt.fail('should throw');
  } catch (error) {
    tt.equal((error as MalformedWebhookError).code, 'VF_WEBHOOK_MALFORMED');
  }
});
