import t from 'tap';
import { MalformedWebhookError } from '../../providers/errors.ts';
import { parseStripeWebhook } from '../../providers/stripe/webhook.ts';

const verificationId = '3F1C2B9E-8D4A-4C1E-9F2B-7A6D5E4C3B21';
const created = 1741946712;

function account(overrides: Record<string, unknown> = {}) {
  return {
    id: 'acct_1Consultant',
    object: 'account',
    charges_enabled: true,
    payouts_enabled: true,
    details_submitted: true,
    metadata: { verification_id: verificationId },
    requirements: { currently_due: [], past_due: [], eventually_due: [], pending_verification: [], disabled_reason: null, errors: [] },
    type: 'express',
    ...overrides,
  };
}

function event(overrides: Record<string, unknown> = {}, object: unknown = account()) {
  return Buffer.from(
    JSON.stringify({
      id: 'evt_1Active',
      object: 'event',
      account: 'acct_1Consultant',
      api_version: '2026-10-28.endive',
      created,
      data: { object, previous_attributes: { charges_enabled: false, payouts_enabled: false } },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type: 'account.updated',
      ...overrides,
    }),
  );
}

t.test('account.updated normalizes to the derived state, routed by metadata and account id', async (tt) => {
  tt.same(parseStripeWebhook(event()), {
    providerEventId: 'evt_1Active',
    eventType: 'account.updated',
    occurredAt: new Date(created * 1000).toISOString(),
    verificationId: verificationId.toLowerCase(),
    providerRef: 'acct_1Consultant',
    providerStatus: 'active',
    status: 'approved',
    reasons: [],
    document: null,
  });
});

t.test('a rejected account is declined with the disabled reason', async (tt) => {
  const rejected = account({
    charges_enabled: false,
    payouts_enabled: false,
    requirements: { disabled_reason: 'rejected.fraud', currently_due: [], past_due: [], pending_verification: [] },
  });
  tt.match(parseStripeWebhook(event({}, rejected)), { providerStatus: 'failed', status: 'declined', reasons: ['rejected.fraud'] });
});

t.test('each seed 003 state arrives with its unified status', async (tt) => {
  const cases: [Record<string, unknown>, string, string][] = [
    [
      {
        charges_enabled: false,
        payouts_enabled: false,
        details_submitted: false,
        requirements: { currently_due: ['business_type'], disabled_reason: 'requirements.past_due' },
      },
      'initiated',
      'pending',
    ],
    [
      {
        charges_enabled: false,
        payouts_enabled: false,
        requirements: { pending_verification: ['individual.id_number'], disabled_reason: 'requirements.pending_verification' },
      },
      'pending',
      'in_progress',
    ],
    [
      {
        charges_enabled: false,
        payouts_enabled: false,
        requirements: { currently_due: ['individual.verification.document'], disabled_reason: 'requirements.past_due' },
      },
      'restricted',
      'pending',
    ],
  ];
  for (const [changes, providerStatus, status] of cases)
    tt.match(parseStripeWebhook(event({}, account(changes))), { providerStatus, status });
});

t.test('metadata that is not our uuid is not taken for a verification id', async (tt) => {
  for (const value of ['user@example.com', '42', '', null, undefined]) {
    const parsed = parseStripeWebhook(event({}, account({ metadata: value === undefined ? {} : { verification_id: value } })));
    tt.equal(parsed.verificationId, null, `metadata ${JSON.stringify(value)}`);
    tt.equal(parsed.providerRef, 'acct_1Consultant', 'still routable by account id');
  }
  tt.equal(parseStripeWebhook(event({}, account({ metadata: null }))).verificationId, null, 'metadata null');
});

t.test('other event types are stored and ignored: no status, still routed to the account', async (tt) => {
  const capability = parseStripeWebhook(
    event(
      { id: 'evt_1Cap', type: 'capability.updated' },
      { id: 'card_payments', object: 'capability', account: 'acct_1Consultant', status: 'active' },
    ),
  );
  tt.same(capability, {
    providerEventId: 'evt_1Cap',
    eventType: 'capability.updated',
    occurredAt: new Date(created * 1000).toISOString(),
    verificationId: null,
    providerRef: 'acct_1Consultant',
    providerStatus: null,
    status: null,
    reasons: [],
    document: null,
  });
  const platform = parseStripeWebhook(
    event({ id: 'evt_1Charge', type: 'charge.succeeded', account: undefined }, { id: 'ch_1', object: 'charge' }),
  );
  tt.match(platform, { providerRef: null, status: null }, 'a platform event names no account');
  const accountObject = parseStripeWebhook(event({ id: 'evt_1Authorized', type: 'account.application.authorized', account: undefined }));
  tt.match(accountObject, { providerRef: 'acct_1Consultant', status: null }, 'an Account object names its own id');
});

t.test('account.application.deauthorized revokes: declined with reason deauthorized, the event itself is the fact', async (tt) => {
  const application = { id: 'ca_1Platform', object: 'application', name: 'veriflow' };
  tt.match(
    parseStripeWebhook(event({ id: 'evt_1Deauth', type: 'account.application.deauthorized', account: 'acct_1Consultant' }, application)),
    {
      providerEventId: 'evt_1Deauth',
      providerRef: 'acct_1Consultant',
      providerStatus: 'deauthorized',
      status: 'declined',
      reasons: ['deauthorized'],
      revokes: true,
    },
  );
  const unrouted = parseStripeWebhook(
    event({ id: 'evt_1DeauthNoAccount', type: 'account.application.deauthorized', account: undefined }, application),
  );
  tt.match(unrouted, { providerRef: null, status: null }, 'without an account it names nothing of ours');
});

t.test('malformed events are MalformedWebhookError, saying what is missing', async (tt) => {
  const cases: [string, Buffer, RegExp][] = [
    ['not JSON', Buffer.from('{'), /not JSON/],
    ['an array', Buffer.from('[]'), /not a JSON object/],
    ['null', Buffer.from('null'), /not a JSON object/],
    ['no id', event({ id: undefined }), /no event id/],
    ['blank id', event({ id: ' ' }), /no event id/],
    ['no type', event({ type: undefined }), /evt_1Active has no type/],
    ['no created', event({ created: undefined }), /no valid created/],
    ['created as a string', event({ created: '1741946712' }), /no valid created/],
    ['created fractional', event({ created: 1741946712.5 }), /no valid created/],
    ['created zero', event({ created: 0 }), /no valid created/],
    ['no data', event({ data: undefined }), /no data.object/],
    ['data.object not an object', event({ data: { object: 'acct_1' } }), /no data.object/],
    ['account.updated without an account', event({}, { id: 'cus_1', object: 'customer' }), /has no Account/],
    ['account.updated, account without id', event({}, account({ id: undefined })), /has no Account/],
  ];
  for (const [name, body, pattern] of cases) {
    tt.throws(() => parseStripeWebhook(body), MalformedWebhookError, `${name}: typed`);
    tt.throws(() => parseStripeWebhook(body), pattern, `${name}: message`);
  }
});
