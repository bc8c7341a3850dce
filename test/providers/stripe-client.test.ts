import { Agent } from 'undici';
import t from 'tap';
import { ProviderRequestError } from '../../providers/errors.ts';
import { STRIPE_API_VERSION, createStripeClient, encodeStripeForm, stripeRetryAfterMs } from '../../providers/stripe/client.ts';
import { json, startApiDouble } from '../helpers/api-double.ts';

const stripeDouble = startApiDouble;

const now = new Date('2025-03-14T10:00:00.000Z');
const verificationId = '3f1c2b9e-8d4a-4c1e-9f2b-7a6d5e4c3b21';
const secretKey = 'sk_test_client_51Hxyz';
const config = (apiUrl: string) => ({
  apiUrl,
  secretKey,
  refreshUrl: (id: string) => `https://vf.example/sessions/stripe/refresh?verification=${id}&token=tok`,
  returnUrl: (id: string) => `https://vf.example/sessions/stripe/return?verification=${id}`,
});
const newAccount = {
  id: 'acct_1New',
  object: 'account',
  charges_enabled: false,
  payouts_enabled: false,
  details_submitted: false,
  metadata: { verification_id: verificationId },
  requirements: {
    currently_due: ['business_type'],
    past_due: ['business_type'],
    pending_verification: [],
    disabled_reason: 'requirements.past_due',
  },
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

t.test('createAccount posts a form-encoded Express account with our id in metadata', async (tt) => {
  const stripe = await stripeDouble(tt);
  stripe.reply(json(200, newAccount));
  const client = createStripeClient(config(stripe.apiUrl), { dispatcher: stripe.dispatcher, now: () => now });
  const account = await client.createAccount({ verificationId, idempotencyKey: `veriflow-session-${verificationId}` });
  tt.same(account, {
    accountId: 'acct_1New',
    verificationId,
    state: 'initiated',
    status: 'pending',
    reasons: [],
    disabledReason: 'requirements.past_due',
  });

  const [sent] = stripe.requests;
  tt.equal(sent?.method, 'POST');
  tt.equal(sent?.url, '/v1/accounts');
  tt.equal(sent?.headers.authorization, `Bearer ${secretKey}`);
  tt.equal(sent?.headers['content-type'], 'application/x-www-form-urlencoded');
  tt.equal(sent?.headers['idempotency-key'], `veriflow-session-${verificationId}`);
  tt.equal(sent?.headers['stripe-version'], STRIPE_API_VERSION);
  const form = new URLSearchParams(sent?.body);
  tt.same(Object.fromEntries(form), {
    type: 'express',
    'capabilities[card_payments][requested]': 'true',
    'capabilities[transfers][requested]': 'true',
    'metadata[verification_id]': verificationId,
  });
  tt.match(sent?.body, /metadata%5Bverification_id%5D=/, 'brackets percent-encoded on the wire');
});

t.test('createAccountLink asks for onboarding with our refresh and return URLs', async (tt) => {
  const stripe = await stripeDouble(tt);
  stripe.reply(
    json(200, {
      object: 'account_link',
      created: 1741946400,
      expires_at: 1741946700,
      url: 'https://connect.stripe.com/setup/e/acct_1New/abc',
    }),
  );
  const client = createStripeClient(config(`${stripe.apiUrl}/`), { dispatcher: stripe.dispatcher });
  const link = await client.createAccountLink({ accountId: 'acct_1New', verificationId });
  tt.same(link, { url: 'https://connect.stripe.com/setup/e/acct_1New/abc', expiresAt: new Date(1741946700 * 1000).toISOString() });
  const sent = stripe.requests[0]!;
  tt.equal(sent.url, '/v1/account_links', 'a trailing slash on apiUrl is tolerated');
  tt.same(Object.fromEntries(new URLSearchParams(sent.body)), {
    account: 'acct_1New',
    type: 'account_onboarding',
    refresh_url: `https://vf.example/sessions/stripe/refresh?verification=${verificationId}&token=tok`,
    return_url: `https://vf.example/sessions/stripe/return?verification=${verificationId}`,
  });
  tt.match(sent.headers['idempotency-key'], /^[0-9a-f-]{36}$/, 'a fresh key per link');

  await client.createAccountLink({ accountId: 'acct_1New', verificationId });
  tt.not(stripe.requests[1]!.headers['idempotency-key'], sent.headers['idempotency-key'], 'never a replay of an old link');

  stripe.reply(json(200, { object: 'account_link', url: 'https://x' }));
  const missing = await rejection(client.createAccountLink({ accountId: 'acct_1New', verificationId }));
  tt.match(missing.details, { status: 200, retryable: false });
});

t.test('retrieveAccount GETs the account without a body and derives its state', async (tt) => {
  const stripe = await stripeDouble(tt);
  stripe.reply(
    json(200, {
      ...newAccount,
      charges_enabled: true,
      payouts_enabled: true,
      requirements: { currently_due: [], past_due: [], pending_verification: [], disabled_reason: null },
    }),
  );
  const client = createStripeClient(config(stripe.apiUrl), { dispatcher: stripe.dispatcher });
  const account = await client.retrieveAccount('acct_1New/../x');
  tt.match(account, { accountId: 'acct_1New', state: 'active', status: 'approved' });
  const sent = stripe.requests[0]!;
  tt.equal(sent.method, 'GET');
  tt.equal(sent.url, '/v1/accounts/acct_1New%2F..%2Fx', 'the id is path-encoded');
  tt.equal(sent.headers['content-type'], undefined);
  tt.equal(sent.headers['idempotency-key'], undefined);
  tt.equal(sent.body, '');

  stripe.reply(json(200, { object: 'list', data: [] }));
  const notAccount = await rejection(client.retrieveAccount('acct_1New'));
  tt.match(notAccount.details, { provider: 'stripe', status: 200, retryable: false });
});

t.test('errors: 429 with Retry-After and 503 retry, 400 does not; Stripe-Should-Retry has the last word', async (tt) => {
  const stripe = await stripeDouble(tt);
  const client = createStripeClient(config(stripe.apiUrl), { dispatcher: stripe.dispatcher, now: () => now });
  const call = () => client.createAccount({ verificationId, idempotencyKey: 'k' });

  stripe.reply(
    json(
      429,
      { error: { type: 'invalid_request_error', code: 'rate_limit', message: 'Too many requests hit the API too quickly.' } },
      { 'retry-after': '2' },
    ),
  );
  const limited = await rejection(call());
  tt.same(limited.details, { provider: 'stripe', status: 429, retryable: true, retryAfterMs: 2000 });
  tt.match(limited.message, /^Stripe POST \/v1\/accounts answered 429: rate_limit: Too many requests/);
  tt.equal(limited.code, 'VF_PROVIDER_REQUEST');

  stripe.reply(
    json(400, {
      error: { type: 'invalid_request_error', code: 'parameter_missing', param: 'type', message: 'Missing required param: type.' },
    }),
  );
  const bad = await rejection(call());
  tt.same(bad.details, { provider: 'stripe', status: 400, retryable: false, retryAfterMs: null });
  tt.match(bad.message, /400: parameter_missing: Missing required param: type\./);

  stripe.reply(json(503, { error: { type: 'api_error', message: 'Service unavailable' } }));
  tt.same((await rejection(call())).details, { provider: 'stripe', status: 503, retryable: true, retryAfterMs: null });
  stripe.reply((res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>'));
  const gateway = await rejection(call());
  tt.same(gateway.details, { provider: 'stripe', status: 502, retryable: true, retryAfterMs: null });
  tt.equal(gateway.message, 'Stripe POST /v1/accounts answered 502', 'a non-JSON body adds nothing');
  stripe.reply(json(408, {}));
  tt.equal((await rejection(call())).details.retryable, true, '408');

  stripe.reply(
    json(409, { error: { type: 'idempotency_error', message: 'Keys for idempotent requests…' } }, { 'stripe-should-retry': 'true' }),
  );
  tt.equal((await rejection(call())).details.retryable, true, 'Stripe says a 409 lock conflict may be retried');
  stripe.reply(json(500, { error: { type: 'api_error', message: 'x' } }, { 'stripe-should-retry': 'false' }));
  tt.equal((await rejection(call())).details.retryable, false, 'Stripe says this 500 must not be retried');
  stripe.reply(json(401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided: sk_test_****xyz' } }));
  tt.same((await rejection(call())).details, { provider: 'stripe', status: 401, retryable: false, retryAfterMs: null });
});

t.test('a connection failure is retryable, with the cause kept', async (tt) => {
  const stripe = await stripeDouble(tt);
  stripe.reply((res) => res.socket?.destroy());
  const client = createStripeClient(config(stripe.apiUrl), { dispatcher: stripe.dispatcher });
  const reset = await rejection(client.retrieveAccount('acct_1'));
  tt.same(reset.details, { provider: 'stripe', status: null, retryable: true, retryAfterMs: null });
  tt.match(reset.message, /^Stripe GET \/v1\/accounts\/acct_1 failed: /);
  tt.ok(reset.cause, 'cause kept');

  const refused = createStripeClient(config('http://127.0.0.1:1'), { timeoutMs: 2000 });
  const failure = await rejection(refused.retrieveAccount('acct_1'));
  tt.match(failure.message, /ECONNREFUSED/);
  tt.equal(failure.details.retryable, true);
});

t.test('the default API URL is api.stripe.com', async (tt) => {
  const { apiUrl: _unused, ...withoutUrl } = config('');
  // Nothing is sent: a refused custom dispatcher proves the origin without touching the network.
  const seen: string[] = [];
  const dispatcher = new Agent({
    connect: (options, callback) => {
      seen.push(`${options.protocol}//${options.hostname}`);
      callback(new Error('offline'), null);
    },
  });
  tt.teardown(() => dispatcher.close());
  const client = createStripeClient(withoutUrl, { dispatcher });
  await rejection(client.retrieveAccount('acct_1'));
  tt.same(seen, ['https://api.stripe.com']);
});

t.test('form encoding and Retry-After parsing', async (tt) => {
  tt.equal(
    encodeStripeForm({
      a: 'x y',
      b: true,
      c: 3,
      n: null,
      u: undefined,
      nested: { deep: { k: 'v' } },
      list: ['p', 'q'],
      objects: [{ k: 1 }],
    }),
    'a=x+y&b=true&c=3&nested%5Bdeep%5D%5Bk%5D=v&list%5B0%5D=p&list%5B1%5D=q&objects%5B0%5D%5Bk%5D=1',
  );
  tt.equal(encodeStripeForm({}), '');
  tt.equal(stripeRetryAfterMs({ 'retry-after': '7' }, now), 7000);
  tt.equal(stripeRetryAfterMs({ 'retry-after': new Date(now.getTime() + 3000).toUTCString() }, now), 3000);
  tt.equal(stripeRetryAfterMs({ 'retry-after': new Date(now.getTime() - 3000).toUTCString() }, now), 0);
  tt.equal(stripeRetryAfterMs({ 'retry-after': 'soon' }, now), null);
  tt.equal(stripeRetryAfterMs({}, now), null);
});
