// The Stripe simulator, driven through our own client and checked with our own verifier and
// parser: the contract between them is the protocol, not shared code.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { ProviderRequestError } from '../../providers/errors.ts';
import { createStripeAdapter } from '../../providers/stripe/index.ts';
import { createStripeClient } from '../../providers/stripe/client.ts';
import { verifyStripeSignature } from '../../providers/stripe/signature.ts';
import { parseStripeWebhook } from '../../providers/stripe/webhook.ts';
import { startSandbox } from '../../sandbox/server.ts';
import { waitFor } from '../helpers/eventually.ts';
import { sandboxLog, type SandboxLog } from '../helpers/sandbox-log.ts';

type TestContext = Parameters<Parameters<typeof t.test>[0]>[0];

const secrets = { secretKey: 'sk_test_sandbox_stripe', webhookSecret: 'whsec_sandbox_stripe_test' };
const personaSecrets = { apiKey: 'persona_key', webhookSecret: 'persona_secret' };
const verificationId = '0b6c1f3e-5a2d-4e8f-9c7b-1d2e3f4a5b6c';
const apiConfig = (apiUrl: string, secretKey = secrets.secretKey) => ({
  apiUrl,
  secretKey,
  refreshUrl: (id: string) => `http://platform.invalid/refresh?verification=${id}`,
  returnUrl: (id: string) => `http://platform.invalid/return?verification=${id}`,
});

interface Received {
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
}

/** Our side of the webhook: records every delivery and answers with the status `answer` picks. */
async function webhookReceiver(tt: TestContext, answer: (attempt: number) => number = () => 200) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, rawBody: Buffer.concat(chunks) });
      res.writeHead(answer(received.length)).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  tt.teardown(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/stripe`, received };
}

async function sandboxFor(tt: TestContext, target: string, webhookRetryDelaysMs: readonly number[] = [0, 20, 20], log?: SandboxLog) {
  const sandbox = await startSandbox({
    webhookTargets: { persona: 'http://127.0.0.1:1/unused', stripe: target },
    secrets: { persona: personaSecrets, stripe: secrets },
    webhookRetryDelaysMs,
    ...(log ? { logger: log.logger } : {}),
  });
  tt.teardown(() => sandbox.close());
  return sandbox;
}

async function act(sandboxUrl: string, accountId: string, action: string): Promise<{ status: number; html: string }> {
  const response = await fetch(`${sandboxUrl}/stripe/onboarding/${accountId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ action }).toString(),
  });
  return { status: response.status, html: await response.text() };
}

/** A delivered webhook, checked by our verifier, as our parser reads it plus the raw event. */
function read(delivery: Received) {
  verifyStripeSignature({
    rawBody: delivery.rawBody,
    header: delivery.headers['stripe-signature'] as string,
    secret: secrets.webhookSecret,
  });
  return { parsed: parseStripeWebhook(delivery.rawBody), event: JSON.parse(delivery.rawBody.toString('utf8')) };
}

t.test('our client creates an account and a link; the link opens the hosted onboarding once', async (tt) => {
  const receiver = await webhookReceiver(tt);
  const sandbox = await sandboxFor(tt, receiver.url);
  const client = createStripeClient(apiConfig(sandbox.url));

  const account = await client.createAccount({ verificationId, idempotencyKey: 'idem-1' });
  tt.match(account, {
    accountId: /^acct_1[A-Za-z0-9]{15}$/,
    verificationId,
    state: 'initiated',
    status: 'pending',
    disabledReason: 'requirements.past_due',
  });
  tt.equal((await client.retrieveAccount(account.accountId)).state, 'initiated');

  const raw = await fetch(`${sandbox.url}/v1/accounts/${account.accountId}`, {
    headers: { authorization: `Bearer ${secrets.secretKey}`, 'stripe-version': '2024-06-20' },
  });
  tt.equal(raw.headers.get('stripe-version'), '2024-06-20', 'the requested version is echoed');
  tt.match(raw.headers.get('request-id'), /^req_/);
  tt.match(await raw.json(), {
    id: account.accountId,
    object: 'account',
    type: 'express',
    charges_enabled: false,
    payouts_enabled: false,
    details_submitted: false,
    capabilities: { card_payments: 'inactive', transfers: 'inactive' },
    metadata: { verification_id: verificationId },
    requirements: { currently_due: Array, past_due: Array, pending_verification: [], disabled_reason: 'requirements.past_due' },
  });

  const link = await client.createAccountLink({ accountId: account.accountId, verificationId });
  tt.match(link.url, new RegExp(`^${sandbox.url}/stripe/onboarding/${account.accountId}\\?link=`));
  tt.ok(Date.parse(link.expiresAt) > Date.now() + 240_000, 'expires in about 5 minutes');

  const first = await fetch(link.url, { redirect: 'manual' });
  tt.equal(first.status, 200);
  const html = await first.text();
  for (const testId of ['account-id', 'account-phase', 'submit-details', 'verify', 'reject', 'require-info', 'reverify'])
    tt.match(html, `data-testid="${testId}"`, testId);
  tt.notMatch(html, /<script|https?:\/\/(?!platform\.invalid)[^"]*\.(css|js)/, 'no scripts, no external assets');

  const again = await fetch(link.url, { redirect: 'manual' });
  tt.equal(again.status, 302, 'a visited link sends the user to refresh_url, as Stripe does');
  tt.equal(again.headers.get('location'), `http://platform.invalid/refresh?verification=${verificationId}`);
  await again.text();

  const forged = await fetch(`${sandbox.url}/stripe/onboarding/${account.accountId}?link=nope`);
  tt.equal(forged.status, 404);
  await forged.text();
  const unknown = await fetch(`${sandbox.url}/stripe/onboarding/acct_1Unknown`);
  tt.equal(unknown.status, 404);
  await unknown.text();

  const index = await (await fetch(`${sandbox.url}/`)).text();
  tt.match(index, account.accountId, 'the index lists the account');
  tt.match(index, verificationId);
});

t.test('the adapter opens sessions on the sandbox and refreshes their links', async (tt) => {
  const receiver = await webhookReceiver(tt);
  const sandbox = await sandboxFor(tt, receiver.url);
  const adapter = createStripeAdapter({ ...apiConfig(sandbox.url), webhookSecret: secrets.webhookSecret });
  const session = await adapter.createSession({ verificationId, templateId: null, idempotencyKey: 'vf-1' });
  tt.match(session, {
    providerRef: /^acct_/,
    sessionUrl: /\/stripe\/onboarding\/acct_/,
    expiresAt: null,
    providerStatus: 'initiated',
    status: 'pending',
  });
  const again = await adapter.createSession({ verificationId, templateId: null, idempotencyKey: 'vf-1' });
  tt.equal(again.providerRef, session.providerRef, 'a retried create finds the same account');
  tt.not(again.sessionUrl, session.sessionUrl, 'with a new link');
  const refreshed = await adapter.refreshSession!(session.providerRef, verificationId);
  tt.not(refreshed.sessionUrl, session.sessionUrl);
  tt.match(await adapter.fetchState(session.providerRef), {
    providerRef: session.providerRef,
    providerStatus: 'initiated',
    status: 'pending',
    reasons: [],
    document: null,
  });
});

t.test("the API checks the key, honours idempotency keys and answers in Stripe's error shape", async (tt) => {
  const receiver = await webhookReceiver(tt);
  const sandbox = await sandboxFor(tt, receiver.url);
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${sandbox.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secrets.secretKey}`, 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
    });

  const first = await post('/v1/accounts', 'type=express&metadata[verification_id]=a', { 'idempotency-key': 'k1' });
  const created = (await first.json()) as { id: string };
  const replay = await post('/v1/accounts', 'type=express&metadata[verification_id]=a', { 'idempotency-key': 'k1' });
  tt.equal(replay.headers.get('idempotent-replayed'), 'true');
  tt.equal(((await replay.json()) as { id: string }).id, created.id, 'same key, same account');
  const other = await post('/v1/accounts', 'type=express&metadata[verification_id]=b', { 'idempotency-key': 'k1' });
  tt.equal(other.status, 400);
  tt.match(await other.json(), { error: { type: 'idempotency_error' } });
  const fresh = await post('/v1/accounts', 'type=express&metadata[verification_id]=a');
  tt.not(((await fresh.json()) as { id: string }).id, created.id, 'no key, new account');
  const badType = await post('/v1/accounts', 'type=weird');
  tt.equal(badType.status, 400);
  tt.match(await badType.json(), { error: { type: 'invalid_request_error', param: 'type' } });

  for (const [body, param] of [
    ['type=account_onboarding&refresh_url=x&return_url=y', 'account'],
    [`account=${created.id}&refresh_url=x&return_url=y`, 'type'],
    [`account=${created.id}&type=account_onboarding&return_url=y`, 'refresh_url'],
    [`account=${created.id}&type=account_onboarding&refresh_url=x`, 'return_url'],
    ['account=acct_1Missing&type=account_onboarding&refresh_url=x&return_url=y', 'account'],
  ] as const) {
    const response = await post('/v1/account_links', body);
    tt.equal(response.status, 400, `account_links without a good ${param}`);
    tt.match(await response.json(), { error: { param } });
  }

  const wrongKey = createStripeClient(apiConfig(sandbox.url, 'sk_test_wrong_key_1234'));
  const error = await wrongKey.createAccount({ verificationId, idempotencyKey: 'k2' }).catch((e: unknown) => e);
  tt.ok(error instanceof ProviderRequestError);
  tt.match((error as ProviderRequestError).details, { status: 401, retryable: false });
  tt.match((error as Error).message, /Invalid API Key provided: sk_test_\*\*\*\*1234/);
  const noKey = await fetch(`${sandbox.url}/v1/accounts/${created.id}`);
  tt.equal(noKey.status, 401);
  await noKey.text();
  const basic = await fetch(`${sandbox.url}/v1/accounts/${created.id}`, {
    headers: { authorization: `Basic ${Buffer.from(`${secrets.secretKey}:`).toString('base64')}` },
  });
  tt.equal(basic.status, 200, 'the key as the Basic-auth user, like Stripe');
  await basic.text();

  const missing = await createStripeClient(apiConfig(sandbox.url))
    .retrieveAccount('acct_1Missing')
    .catch((e: unknown) => e);
  tt.match((missing as ProviderRequestError).details, { status: 404, retryable: false });
  tt.match((missing as Error).message, /resource_missing: No such account/);
});

t.test('each onboarding button changes the account and sends one signed account.updated', async (tt) => {
  const receiver = await webhookReceiver(tt);
  const sandbox = await sandboxFor(tt, receiver.url);
  const client = createStripeClient(apiConfig(sandbox.url));
  const { accountId } = await client.createAccount({ verificationId, idempotencyKey: 'flow' });

  const steps: [string, string, string][] = [
    ['submit', 'pending', 'in_progress'],
    ['verify', 'active', 'approved'],
    ['reverify', 'pending', 'in_progress'],
    ['require_info', 'restricted', 'pending'],
    ['submit', 'pending', 'in_progress'],
    ['reject', 'failed', 'declined'],
  ];
  for (const [index, [action, providerStatus, status]] of steps.entries()) {
    const result = await act(sandbox.url, accountId, action);
    tt.equal(result.status, 200, `${action}: page`);
    tt.match(result.html, 'data-testid="action-result"');
    await waitFor(() => receiver.received.length === index + 1, `${action} webhook`);
    const delivery = receiver.received[index]!;
    tt.equal(delivery.headers['content-type'], 'application/json; charset=utf-8');
    tt.match(delivery.headers['user-agent'], /^Stripe\/1\.0/);
    const { parsed } = read(delivery);
    tt.match(
      parsed,
      { eventType: 'account.updated', verificationId, providerRef: accountId, providerStatus, status },
      `${action}: ${providerStatus}`,
    );
    tt.equal((await client.retrieveAccount(accountId)).state, providerStatus, `${action}: the API agrees with the webhook`);
  }

  const events = receiver.received.map((delivery) => read(delivery).event);
  tt.equal(new Set(events.map((event) => event.id)).size, events.length, 'a fresh event id each time');
  for (const event of events) tt.match(event.id, /^evt_1[A-Za-z0-9]{23}$/);
  tt.ok(
    events.every((event, i) => i === 0 || event.created > events[i - 1].created),
    'created strictly increases',
  );
  tt.match(events[0], { object: 'event', account: accountId, livemode: false, type: 'account.updated' });
  tt.same(
    events[1].data.previous_attributes,
    {
      capabilities: { card_payments: 'pending', transfers: 'pending' },
      charges_enabled: false,
      payouts_enabled: false,
      requirements: {
        disabled_reason: 'requirements.pending_verification',
        pending_verification: ['individual.id_number', 'individual.verification.document'],
      },
    },
    'verify: the old values of what changed',
  );
  tt.match(events.at(-1).data.object.requirements, { disabled_reason: 'rejected.fraud' });
  tt.same(read(receiver.received.at(-1)!).parsed.reasons, ['rejected.fraud']);
});

t.test('re-verify needs an active account; unknown actions and accounts are refused', async (tt) => {
  const receiver = await webhookReceiver(tt);
  const sandbox = await sandboxFor(tt, receiver.url);
  const { accountId } = await createStripeClient(apiConfig(sandbox.url)).createAccount({ verificationId, idempotencyKey: 'x' });
  tt.equal((await act(sandbox.url, accountId, 'reverify')).status, 409);
  tt.equal((await act(sandbox.url, accountId, 'explode')).status, 400);
  tt.equal((await act(sandbox.url, 'acct_1Nobody', 'verify')).status, 404);
  // Webhooks go out in the order they are made: once a later one is in, any for the refused actions would have come first.
  await act(sandbox.url, accountId, 'submit');
  await waitFor(() => receiver.received.length > 0, 'the webhook of a later submit');
  tt.equal(receiver.received.length, 1, 'nothing sent for the refused actions');
});

t.test('a failed delivery is retried (each attempt signed anew), then given up after the bounded attempts', async (tt) => {
  const receiver = await webhookReceiver(tt, (attempt) => (attempt < 3 ? 500 : 200));
  const sandbox = await sandboxFor(tt, receiver.url, [0, 30, 30]);
  const { accountId } = await createStripeClient(apiConfig(sandbox.url)).createAccount({ verificationId, idempotencyKey: 'r' });
  await act(sandbox.url, accountId, 'submit');
  await waitFor(() => receiver.received.length === 3, 'three attempts');
  const ids = receiver.received.map((delivery) => read(delivery).event.id);
  tt.same(new Set(ids).size, 1, 'the same event each attempt');

  const down = await webhookReceiver(tt, () => 503);
  const log = sandboxLog();
  const stubborn = await sandboxFor(tt, down.url, [0, 20], log);
  const other = await createStripeClient(apiConfig(stubborn.url)).createAccount({ verificationId, idempotencyKey: 'r' });
  await act(stubborn.url, other.accountId, 'verify');
  await waitFor(() => log.count(/giving up$/) === 1, 'the sandbox to give up');
  tt.equal(down.received.length, 2, 'two attempts, no more than the schedule allows');
});

t.test('without stripe secrets the sandbox does not simulate Stripe (existing callers unchanged)', async (tt) => {
  const sandbox = await startSandbox({ webhookTargets: { persona: 'http://127.0.0.1:1/x' }, secrets: { persona: personaSecrets } });
  tt.teardown(() => sandbox.close());
  const response = await fetch(`${sandbox.url}/v1/accounts`, { method: 'POST', headers: { authorization: `Bearer ${secrets.secretKey}` } });
  tt.equal(response.status, 404);
  await response.text();
  const index = await (await fetch(`${sandbox.url}/`)).text();
  tt.notMatch(index, 'Stripe Connect accounts');
});
