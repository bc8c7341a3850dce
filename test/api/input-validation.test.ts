// Request input at the edge: JSON bodies are not coerced, crafted cursors are a 400, a
// tenant's allowedProviders is enforced, and provider events we do not handle are acknowledged.
// None of it reaches Temporal, so the app runs alone.
import { eq } from 'drizzle-orm';
import Stripe from 'stripe';
import t from 'tap';
import { webhookEvents } from '../../db/schema/index.ts';
import { createTenant, ensureDevTenant } from '../../api/services/tenants.ts';
import { buildTestApp } from '../helpers/app.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { TEST_API_KEY } from '../helpers/stack.ts';

// Configured providers (their APIs are never called here: nothing gets as far as a workflow).
const PROVIDER_ENV = {
  PERSONA_API_KEY: 'persona_key',
  PERSONA_WEBHOOK_SECRET: 'persona_secret',
  STRIPE_SECRET_KEY: 'sk_test_key',
  STRIPE_WEBHOOK_SECRET: 'whsec_test',
  IDMETA_API_KEY: 'idmeta_key',
  IDMETA_WEBHOOK_SECRET: 'idmeta_secret',
};

t.test('request input', async (t) => {
  const db = await createTestDatabase(t);
  await ensureDevTenant(db.db, TEST_API_KEY);
  const app = await buildTestApp(t, db, PROVIDER_ENV);
  const as = (apiKey: string) => ({ authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' });
  const post = (url: string, payload: unknown, apiKey = TEST_API_KEY) =>
    app.inject({ method: 'POST', url, headers: as(apiKey), payload: JSON.stringify(payload) });
  const get = (url: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${TEST_API_KEY}` } });

  t.test('JSON bodies are not coerced: a number or boolean where a string belongs is a 400 naming the field', async (t) => {
    for (const reference of [42, true]) {
      const res = await post('/v1/verifications', { provider: 'persona', reference });
      t.equal(res.statusCode, 400, `reference: ${reference}`);
      t.match(res.json(), { code: 'validation_failed', detail: /'reference' must be string/ });
    }
    const flag = await post('/v1/verifications', { provider: 'persona', notify: { email: 'true' } });
    t.equal(flag.statusCode, 400, 'a string where a boolean belongs');
    t.match(flag.json(), { code: 'validation_failed', detail: /'notify\.email' must be boolean/ });
    const idNumber = await post('/v1/verifications/verify-by-id', {
      verificationType: 'philippines_prc',
      idNumber: 1234567,
      userData: { firstName: 'A', lastName: 'B', dateOfBirth: '1990-01-01' },
    });
    t.match(idNumber.json(), { status: 400, detail: /'idNumber' must be string/ });
    const webhookEndpoint = await app.inject({
      method: 'PUT',
      url: '/v1/webhook-endpoint',
      headers: as(TEST_API_KEY),
      payload: JSON.stringify({ url: 'http://127.0.0.1:9/hook', rotateSecret: 'true' }),
    });
    t.match(webhookEndpoint.json(), { status: 400, detail: /'rotateSecret' must be boolean/ });
  });

  t.test('query strings still coerce: limit=5 is a number', async (t) => {
    const res = await get('/v1/verifications?limit=5');
    t.equal(res.statusCode, 200);
    t.same(res.json(), { data: [], nextCursor: null });
  });

  t.test('a crafted cursor is a 400 invalid_cursor, on both lists', async (t) => {
    const crafted = [
      Buffer.from('2025-01-01T00:00:00.000Z|not-a-uuid').toString('base64url'),
      Buffer.from("2025-01-01T00:00:00.000Z|' or 1=1 --").toString('base64url'),
      Buffer.from('2025-01-01T00:00:00.000Z|00000000-0000-4000-8000-000000000000|extra').toString('base64url'),
      Buffer.from('not a date|00000000-0000-4000-8000-000000000000').toString('base64url'),
    ];
    for (const list of ['/v1/verifications', '/v1/webhook-deliveries']) {
      for (const cursor of crafted) {
        const res = await get(`${list}?cursor=${cursor}`);
        t.equal(res.statusCode, 400, `${list} cursor ${Buffer.from(cursor, 'base64url').toString()}`);
        t.match(res.json(), { code: 'invalid_cursor', action: /nextCursor/ });
      }
    }
  });

  t.test('allowedProviders: a Persona-only tenant gets 403 naming the provider; allowed ones pass the check', async (t) => {
    const personaOnly = await createTenant(db.db, 'persona-only', { allowedProviders: ['persona'] });
    const stripe = await post('/v1/verifications', { provider: 'stripe', reference: 'u-1' }, personaOnly.apiKey);
    t.equal(stripe.statusCode, 403);
    t.match(stripe.json(), { code: 'provider_not_allowed', detail: /'stripe'/, action: /persona/ });
    t.equal(stripe.headers['content-type'], 'application/problem+json; charset=utf-8');
    const byId = await post(
      '/v1/verifications/verify-by-id',
      { verificationType: 'philippines_prc', idNumber: '1234567', userData: { firstName: 'A', lastName: 'B', dateOfBirth: '1990-01-01' } },
      personaOnly.apiKey,
    );
    t.equal(byId.statusCode, 403, 'verify-by-id runs on IDmeta');
    t.match(byId.json(), { code: 'provider_not_allowed', detail: /'idmeta'/ });

    // Past the provider check, the next check (notify.email needs an address) answers: the provider was allowed.
    const allowed = await post('/v1/verifications', { provider: 'persona', notify: { email: true } }, personaOnly.apiKey);
    t.match(allowed.json(), { status: 400, code: 'applicant_email_required' }, 'persona is allowed');
    const unrestricted = await post('/v1/verifications', { provider: 'stripe', notify: { email: true } });
    t.match(unrestricted.json(), { status: 400, code: 'applicant_email_required' }, 'a tenant without a list may use every provider');
  });

  t.test('Stripe events we do not handle (thin v2.core.event, other snapshot types) are 200 and stored as ignored', async (t) => {
    const thin = {
      id: 'evt_test_65R9Ijk8d2dMhHv1thin',
      object: 'v2.core.event',
      type: 'v1.billing.meter.error_report_triggered',
      livemode: false,
      created: new Date().toISOString(),
      related_object: { id: 'mtr_test_1', type: 'billing.meter', url: '/v1/billing/meters/mtr_test_1' },
    };
    const payout = {
      id: 'evt_1PayoutCreated',
      object: 'event',
      type: 'payout.created',
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: 'po_1', object: 'payout' } },
    };
    for (const event of [thin, payout]) {
      const payload = JSON.stringify(event);
      const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: PROVIDER_ENV.STRIPE_WEBHOOK_SECRET });
      const res = await app.inject({
        method: 'POST',
        url: '/webhooks/stripe',
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
        payload,
      });
      t.equal(res.statusCode, 200, `${event.type}: acknowledged (${res.body})`);
      const [row] = await db.db.select().from(webhookEvents).where(eq(webhookEvents.providerEventId, event.id));
      t.match(
        row,
        { provider: 'stripe', eventType: event.type, outcome: 'ignored', verificationId: null },
        `${event.type}: recorded as ignored`,
      );
    }
  });
});
