// Seed 003 on the real stack: API -> workflow -> sandbox Connect account -> hosted onboarding ->
// signed account.updated webhooks -> workflow (reads the account, applies) -> Postgres -> GET.
import { eq } from 'drizzle-orm';
import Stripe from 'stripe';
import t from 'tap';
import { linkSecret } from '../../config/env.ts';
import { webhookEvents } from '../../db/schema/index.ts';
import { STRIPE_REFRESH_LINK_TTL_MS, stripeRefreshUrl } from '../../providers/stripe/refresh-link.ts';
import { STRIPE_SECRETS, eventually, startStack } from '../helpers/stack.ts';

const stack = await startStack(t);

interface HistoryItem {
  source: string;
  eventId: string | null;
  from: string | null;
  to: string;
  applied: boolean;
  reason: string | null;
}

async function createStripeVerification(reference: string) {
  const created = await stack.request('POST', '/v1/verifications', { provider: 'stripe', reference }, { prefer: 'wait=15' });
  const view = await stack.request('GET', `/v1/verifications/${created.body.id}`);
  return { created, id: created.body.id as string, accountId: view.body.providerRef as string };
}

async function onboarding(accountId: string, action: string): Promise<number> {
  const response = await fetch(`${stack.sandboxUrl}/stripe/onboarding/${accountId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ action }).toString(),
  });
  await response.text();
  return response.status;
}

const read = (id: string) => stack.request('GET', `/v1/verifications/${id}`);
const until = (id: string, done: (body: any) => boolean) =>
  eventually(
    () => read(id),
    (r) => done(r.body),
  );

/** Posts an event to our webhook endpoint the way Stripe would, signed with the official package. */
function deliver(event: object, signature?: string) {
  const payload = JSON.stringify(event);
  const header = signature ?? Stripe.webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRETS.webhookSecret });
  return stack.app.inject({
    method: 'POST',
    url: '/webhooks/stripe',
    headers: { 'content-type': 'application/json', 'stripe-signature': header },
    payload,
  });
}

function accountUpdated(input: { eventId: string; created: number; accountId: string; verificationId?: string; account: object }) {
  return {
    id: input.eventId,
    object: 'event',
    account: input.accountId,
    api_version: '2026-10-28.endive',
    created: input.created,
    data: {
      object: {
        id: input.accountId,
        object: 'account',
        metadata: input.verificationId ? { verification_id: input.verificationId } : {},
        ...input.account,
      },
      previous_attributes: {},
    },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'account.updated',
  };
}

const PENDING_ACCOUNT = {
  charges_enabled: false,
  payouts_enabled: false,
  details_submitted: true,
  requirements: {
    currently_due: [],
    past_due: [],
    pending_verification: ['individual.id_number'],
    disabled_reason: 'requirements.pending_verification',
  },
};

t.test('seed 003: create, submit, verify, a stale pending, re-verification, rejection; the workflow stays open', async (t) => {
  const { created, id, accountId } = await createStripeVerification('consultant-7');
  t.equal(created.status, 201, 'Prefer: wait returns the session');
  t.match(created.body, {
    provider: 'stripe',
    reference: 'consultant-7',
    sessionUrl: new RegExp(`^${stack.sandboxUrl}/stripe/onboarding/acct_`),
  });
  t.match(accountId, /^acct_1/);
  t.match(created.body.sessionUrl, accountId, 'the session URL is the account the workflow created');
  const initiated = await until(id, (b) => b.status !== 'created');
  t.match(
    initiated.body,
    { status: 'pending', providerStatus: 'initiated', expiresAt: null, result: null },
    'a new account is initiated: pending for the client',
  );

  const page = await fetch(created.body.sessionUrl);
  t.equal(page.status, 200, 'the onboarding link opens the hosted flow');
  await page.text();

  t.equal(await onboarding(accountId, 'submit'), 200);
  const submitted = await until(id, (b) => b.status === 'in_progress');
  t.match(submitted.body, { status: 'in_progress', providerStatus: 'pending' }, 'submitted: pending at Stripe, in progress for the client');

  t.equal(await onboarding(accountId, 'verify'), 200);
  const verified = await until(id, (b) => b.status === 'approved');
  t.match(verified.body, { status: 'approved', providerStatus: 'active', result: { decision: 'approved', reasons: [] } });
  const handle = stack.temporal.client.workflow.getHandle(`verification-${id}`);
  t.equal((await handle.describe()).status.name, 'RUNNING', 'long-lived: still open after approved');

  // An older `pending` delivered after `active` (Stripe retried it late). Built and signed here.
  const staleId = 'evt_1StalePendingEvent0000001';
  const stale = await deliver(
    accountUpdated({
      eventId: staleId,
      created: Math.floor(Date.now() / 1000) - 600,
      accountId,
      verificationId: id,
      account: PENDING_ACCOUNT,
    }),
  );
  t.equal(stale.statusCode, 200);
  t.same(stale.json(), { received: true, duplicate: false });
  const afterStale = await until(id, (b) => b.history.some((h: HistoryItem) => h.eventId === staleId));
  const staleEntry = afterStale.body.history.find((h: HistoryItem) => h.eventId === staleId);
  t.match(
    staleEntry,
    { source: 'webhook', from: 'approved', to: 'approved', applied: false, reason: 'stale' },
    'the stale pending changed nothing and is recorded as stale',
  );
  t.match(afterStale.body, { status: 'approved', providerStatus: 'active' });

  const again = await deliver(
    accountUpdated({
      eventId: staleId,
      created: Math.floor(Date.now() / 1000) - 600,
      accountId,
      verificationId: id,
      account: PENDING_ACCOUNT,
    }),
  );
  t.same(again.json(), { received: true, duplicate: true }, 'the same event id again is a duplicate');

  t.equal(await onboarding(accountId, 'reverify'), 200);
  const reverifying = await until(id, (b) => b.status === 'in_progress');
  t.match(
    reverifying.body,
    { status: 'in_progress', providerStatus: 'pending', result: null },
    'a newer active -> pending re-verification applies',
  );
  t.match(reverifying.body.history.at(-1), { from: 'approved', to: 'in_progress', applied: true });

  t.equal(await onboarding(accountId, 'reject'), 200);
  const rejected = await until(id, (b) => b.status === 'declined');
  t.match(
    rejected.body,
    { status: 'declined', providerStatus: 'failed', result: { decision: 'declined', reasons: ['rejected.fraud'] } },
    'declined with the reason',
  );
  t.equal((await handle.describe()).status.name, 'RUNNING', 'still open after declined');

  const events = await stack.directDb
    .select({ providerEventId: webhookEvents.providerEventId, outcome: webhookEvents.outcome })
    .from(webhookEvents)
    .where(eq(webhookEvents.verificationId, id));
  t.equal(events.length, 5, 'submit, verify, stale, reverify, reject stored once each');
  t.same(
    events.filter((e) => e.outcome !== 'applied').map((e) => [e.providerEventId, e.outcome]),
    [[staleId, 'stale']],
    'every event reached the workflow; only the older pending was stale',
  );
  const sources = rejected.body.history.map((h: HistoryItem) => h.source);
  t.equal(sources[0], 'api');
  t.equal(sources.filter((s: string) => s === 'webhook').length, 5);
});

t.test('account.application.deauthorized revokes an approval: declined with reason deauthorized, for good', async (t) => {
  const { id, accountId } = await createStripeVerification('consultant-deauthorized');
  await until(id, (b) => b.status === 'pending');
  t.equal(await onboarding(accountId, 'submit'), 200);
  t.equal(await onboarding(accountId, 'verify'), 200);
  await until(id, (b) => b.status === 'approved');

  // The account holder disconnected the platform in their dashboard. Stripe names the account at
  // the top level; data.object is our platform's Connect application.
  const deauthorized = {
    id: 'evt_1Deauthorized0000000000001',
    object: 'event',
    account: accountId,
    created: Math.floor(Date.now() / 1000),
    data: { object: { id: 'ca_1VeriflowPlatform', object: 'application', name: 'veriflow' } },
    type: 'account.application.deauthorized',
  };
  t.same((await deliver(deauthorized)).json(), { received: true, duplicate: false });
  const revoked = await until(id, (b) => b.status !== 'approved');
  t.match(revoked.body, {
    status: 'declined',
    providerStatus: 'deauthorized',
    result: { decision: 'declined', reasons: ['deauthorized'] },
  });
  t.match(revoked.body.history.at(-1), { source: 'webhook', eventId: deauthorized.id, from: 'approved', to: 'declined', applied: true });
  const [row] = await stack.directDb.select().from(webhookEvents).where(eq(webhookEvents.providerEventId, deauthorized.id));
  t.match(row, { verificationId: id, outcome: 'applied' }, 'stored and applied, no longer ignored');

  // The account itself still reads active (Stripe keeps it; we lost access): a newer
  // account.updated is read and recorded, but cannot undo the revocation.
  const later = accountUpdated({
    eventId: 'evt_1AfterDeauthorization00001',
    created: Math.floor(Date.now() / 1000) + 1,
    accountId,
    verificationId: id,
    account: {
      charges_enabled: true,
      payouts_enabled: true,
      details_submitted: true,
      requirements: { currently_due: [], past_due: [], pending_verification: [] },
    },
  });
  t.same((await deliver(later)).json(), { received: true, duplicate: false });
  const after = await until(id, (b) => b.history.some((h: HistoryItem) => h.eventId === later.id));
  t.match(
    after.body.history.find((h: HistoryItem) => h.eventId === later.id),
    { from: 'declined', to: 'declined', applied: false },
  );
  t.equal(after.body.status, 'declined', 'still declined');
});

t.test('an unknown account is stored as unmatched and answered 200; a repeat is a duplicate', async (t) => {
  const event = accountUpdated({
    eventId: 'evt_1UnknownAccount000000001',
    created: Math.floor(Date.now() / 1000),
    accountId: 'acct_1NotOursAtAll',
    account: PENDING_ACCOUNT,
  });
  const first = await deliver(event);
  t.equal(first.statusCode, 200);
  t.same(first.json(), { received: true, duplicate: false });
  const [row] = await stack.directDb.select().from(webhookEvents).where(eq(webhookEvents.providerEventId, 'evt_1UnknownAccount000000001'));
  t.match(row, {
    provider: 'stripe',
    outcome: 'unmatched',
    verificationId: null,
    providerRef: 'acct_1NotOursAtAll',
    eventType: 'account.updated',
  });
  t.same((await deliver(event)).json(), { received: true, duplicate: true });
});

t.test('other event types for our account are stored and ignored', async (t) => {
  const { id, accountId } = await createStripeVerification('consultant-ignored');
  await until(id, (b) => b.status === 'pending');
  const capability = {
    id: 'evt_1CapabilityUpdated000000001',
    object: 'event',
    account: accountId,
    created: Math.floor(Date.now() / 1000),
    data: {
      object: { id: 'transfers', object: 'capability', account: accountId, status: 'pending' },
      previous_attributes: { status: 'inactive' },
    },
    type: 'capability.updated',
  };
  t.same((await deliver(capability)).json(), { received: true, duplicate: false });
  const [row] = await stack.directDb.select().from(webhookEvents).where(eq(webhookEvents.providerEventId, capability.id));
  t.match(row, { verificationId: id, outcome: 'ignored' });
  t.equal((await read(id)).body.status, 'pending', 'status untouched');
});

t.test('an invalid signature is 401 and stores nothing', async (t) => {
  const event = accountUpdated({
    eventId: 'evt_1Forged00000000000000001',
    created: Math.floor(Date.now() / 1000),
    accountId: 'acct_1Forged',
    account: PENDING_ACCOUNT,
  });
  const payload = JSON.stringify(event);
  const cases: [string, string][] = [
    ['wrong secret', Stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_not_ours' })],
    [
      'too old',
      Stripe.webhooks.generateTestHeaderString({
        payload,
        secret: STRIPE_SECRETS.webhookSecret,
        timestamp: Math.floor(Date.now() / 1000) - 400,
      }),
    ],
    [
      'too far ahead',
      Stripe.webhooks.generateTestHeaderString({
        payload,
        secret: STRIPE_SECRETS.webhookSecret,
        timestamp: Math.floor(Date.now() / 1000) + 400,
      }),
    ],
    ['garbage', 'garbage'],
  ];
  for (const [name, header] of cases) {
    const forged = await deliver(event, header);
    t.equal(forged.statusCode, 401, name);
    t.equal(forged.headers['content-type'], 'application/problem+json; charset=utf-8');
    t.match(forged.json(), { status: 401, code: 'invalid_signature', detail: /Stripe-Signature/ }, name);
  }
  const missing = await stack.app.inject({
    method: 'POST',
    url: '/webhooks/stripe',
    headers: { 'content-type': 'application/json' },
    payload,
  });
  t.equal(missing.statusCode, 401, 'no header');
  const rows = await stack.directDb.select().from(webhookEvents).where(eq(webhookEvents.providerEventId, 'evt_1Forged00000000000000001'));
  t.equal(rows.length, 0, 'nothing stored');
});

t.test('an expired or used onboarding link comes back through our refresh route to a fresh one', async (t) => {
  const { created, id, accountId } = await createStripeVerification('consultant-refresh');
  const first = await fetch(created.body.sessionUrl);
  t.equal(first.status, 200);
  await first.text();

  // Stripe sends a second visit to refresh_url: our route mints a new link and redirects to it.
  const revisit = await fetch(created.body.sessionUrl, { redirect: 'manual' });
  t.equal(revisit.status, 302);
  const refreshUrl = new URL(revisit.headers.get('location')!);
  await revisit.text();
  t.equal(`${refreshUrl.origin}${refreshUrl.pathname}`, `${stack.apiUrl}/sessions/stripe/refresh`);
  t.equal(refreshUrl.searchParams.get('verification'), id);

  const refreshed = await fetch(refreshUrl, { redirect: 'manual' });
  t.equal(refreshed.status, 302);
  t.equal(refreshed.headers.get('cache-control'), 'no-store');
  const fresh = refreshed.headers.get('location')!;
  await refreshed.text();
  t.match(fresh, new RegExp(`^${stack.sandboxUrl}/stripe/onboarding/${accountId}\\?link=`));
  t.not(fresh, created.body.sessionUrl, 'a new link');
  const opened = await fetch(fresh);
  t.equal(opened.status, 200, 'the new link opens the flow');
  await opened.text();

  const token = refreshUrl.searchParams.get('token')!;
  const variant = (changes: Record<string, string | null>) => {
    const url = new URL(refreshUrl);
    for (const [key, value] of Object.entries(changes)) {
      if (value === null) url.searchParams.delete(key);
      else url.searchParams.set(key, value);
    }
    return stack.app.inject({ method: 'GET', url: `${url.pathname}${url.search}` });
  };
  const bad = await variant({ token: `${token.slice(0, -2)}xx` });
  t.equal(bad.statusCode, 404, 'a wrong token');
  t.match(bad.json(), { code: 'not_found', detail: /not valid/ });
  t.equal((await variant({ verification: '00000000-0000-4000-8000-000000000000' })).statusCode, 404, "another verification's token");
  t.equal((await variant({ verification: 'nope' })).statusCode, 400);
  t.equal((await variant({ token: null })).statusCode, 400, 'no token');

  const returned = await stack.app.inject({ method: 'GET', url: `/sessions/stripe/return?verification=${id}` });
  t.equal(returned.statusCode, 200);
  t.match(returned.headers['content-type'], /^text\/html/);
  t.match(returned.body, 'data-testid="stripe-return"');

  const openapi = await stack.app.inject({ method: 'GET', url: '/openapi.json' });
  t.equal(openapi.statusCode, 200);
  t.ok(openapi.json().paths['/sessions/stripe/refresh'], 'the refresh route is documented');
});

t.test('refresh links expire, belong to the account they were issued for, and stop once the verification is decided', async (t) => {
  const { created, id, accountId } = await createStripeVerification('consultant-refresh-bounds');
  const first = await fetch(created.body.sessionUrl);
  await first.text();
  const revisit = await fetch(created.body.sessionUrl, { redirect: 'manual' });
  await revisit.text();
  const issued = new URL(revisit.headers.get('location')!);
  const expires = Number(issued.searchParams.get('expires'));
  t.ok(
    expires * 1000 > Date.now() && expires * 1000 <= Date.now() + STRIPE_REFRESH_LINK_TTL_MS,
    `the link carries its expiry (${issued.searchParams.get('expires')})`,
  );
  t.equal(issued.searchParams.get('account'), accountId, 'and the account it was issued for');

  const get = (url: string) => stack.app.inject({ method: 'GET', url: url.replace(stack.apiUrl, '') });
  const secret = linkSecret(stack.env);
  const expired = await get(
    stripeRefreshUrl(stack.apiUrl, secret, { verificationId: id, accountId, expiresAt: new Date(Date.now() - 1000) }),
  );
  t.equal(expired.statusCode, 410, 'a correctly signed but expired link');
  t.match(expired.json(), { code: 'link_expired', detail: /expired/ });
  const otherAccount = await get(
    stripeRefreshUrl(stack.apiUrl, secret, { verificationId: id, accountId: 'acct_1NotThisOne', expiresAt: new Date(Date.now() + 60_000) }),
  );
  t.equal(otherAccount.statusCode, 404, 'a link issued for another account of the verification');
  const tampered = new URL(issued);
  tampered.searchParams.set('expires', String(expires + 86_400));
  t.equal((await get(tampered.toString())).statusCode, 404, 'a pushed-back expiry breaks the signature');

  const reviewed = await stack.request('POST', `/v1/verifications/${id}/review`, { decision: 'declined', reason: 'refresh-link test' });
  t.equal(reviewed.status, 200);
  await until(id, (body) => body.status === 'declined');
  const finished = await get(issued.toString());
  t.equal(finished.statusCode, 409, 'no new onboarding link for a declined verification');
  t.match(finished.json(), { code: 'verification_finished', detail: /declined/ });
});
