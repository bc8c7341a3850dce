import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Signature } from 'smile-identity-core';
import t from 'tap';
import { createSmileIdClient } from '../../providers/smileid/client.ts';
import { verifySmileIdCallback, parseSmileIdWebhook } from '../../providers/smileid/webhook.ts';
import { smileIdSignature } from '../../sandbox/smileid/signature.ts';
import { startSandbox } from '../../sandbox/server.ts';
import { eventually, waitFor } from '../helpers/eventually.ts';
import { sandboxLog, type SandboxLog } from '../helpers/sandbox-log.ts';

type TestContext = Parameters<Parameters<typeof t.test>[0]>[0];

const secrets = { partnerId: '0777', apiKey: 'smileid_sandbox_test_key' };
const persona = { apiKey: 'p', webhookSecret: 'w' };
const verificationId = '2a4c6e8f-1b3d-4f5a-8c7e-9d0b1a2c3e4f';

interface Received {
  rawBody: Buffer;
  at: number;
}

/** Our side of the callback: records every delivery and answers with the status `answer` picks. */
async function callbackReceiver(tt: TestContext, answer: (attempt: number) => number = () => 200) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ rawBody: Buffer.concat(chunks), at: Date.now() });
      res.writeHead(answer(received.length)).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  tt.teardown(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/smileid`, received };
}

async function sandboxFor(
  tt: TestContext,
  options: { target?: string; retryDelaysMs?: readonly number[]; withSmileId?: boolean; log?: SandboxLog } = {},
) {
  const sandbox = await startSandbox({
    webhookTargets: { persona: 'http://127.0.0.1:9/unused', ...(options.target === undefined ? {} : { smileid: options.target }) },
    secrets: options.withSmileId === false ? { persona } : { persona, smileid: secrets },
    webhookRetryDelaysMs: options.retryDelaysMs ?? [0, 20, 20],
    ...(options.log ? { logger: options.log.logger } : {}),
  });
  tt.teardown(() => sandbox.close());
  return sandbox;
}

function signed(key = secrets.apiKey, partner = secrets.partnerId) {
  const timestamp = new Date().toISOString();
  return { partner_id: partner, timestamp, signature: new Signature(partner, key).generate_signature(timestamp).signature };
}

function linkRequest(overrides: Record<string, unknown> = {}) {
  return {
    ...signed(),
    name: 'Verification test',
    id_types: [{ country: 'NG', id_type: 'NIN_V2', verification_method: 'biometric_kyc' }],
    is_single_use: true,
    user_id: verificationId,
    expires_at: new Date(Date.now() + 86_400_000).toISOString(),
    partner_params: { job_id: verificationId, user_id: verificationId, job_type: 1 },
    ...overrides,
  };
}

async function post(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? null : JSON.parse(text) };
}

async function decide(linkUrl: string, decision: string): Promise<{ status: number; html: string }> {
  const response = await fetch(linkUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ decision }).toString(),
  });
  return { status: response.status, html: await response.text() };
}

t.test("the sandbox's own signing code agrees with smile-identity-core", async (t) => {
  for (const [partner, key, timestamp] of [
    ['0777', 'k', '2025-03-14T10:00:00.000Z'],
    ['1234', 'a much longer api key with spaces and ünïcode', '2030-01-01T00:00:00+02:00'],
  ] as const) {
    t.equal(smileIdSignature(partner, key, timestamp), new Signature(partner, key).generate_signature(timestamp).signature);
  }
});

t.test('smile_links: signed requests create a link; unsigned, wrongly signed or incomplete ones are refused', async (t) => {
  const sandbox = await sandboxFor(t);
  const url = `${sandbox.url}/v1/smile_links`;
  t.same(await post(url, linkRequest(signed('wrong key'))), {
    status: 401,
    body: { code: '2205', error: "You're not authorized to do that" },
  });
  t.equal((await post(url, linkRequest(signed(secrets.apiKey, '9999')))).status, 401, 'another partner');
  t.equal((await post(url, linkRequest({ signature: undefined }))).status, 401, 'unsigned');
  t.same(await post(url, linkRequest({ partner_params: { job_id: verificationId } })), {
    status: 400,
    body: { code: '2213', error: 'A required parameter is missing' },
  });
  t.equal((await post(url, linkRequest({ id_types: [] }))).status, 400, 'no id types');
  t.equal((await post(url, linkRequest({ expires_at: 'someday' }))).status, 400, 'bad expires_at');
  t.equal((await post(url, '{not json')).status, 400, 'not JSON');

  const created = await post(url, linkRequest());
  t.equal(created.status, 201);
  t.match(created.body, { ref_id: /^[0-9a-f]{24}$/ });
  t.equal(created.body.link, `${sandbox.url}/smileid/link/${created.body.ref_id}`);
});

t.test('the link page: plain HTML with stable test ids; job_status knows no job until the user submits', async (t) => {
  const sandbox = await sandboxFor(t);
  const { body: link } = await post(`${sandbox.url}/v1/smile_links`, linkRequest({ callback_url: 'http://127.0.0.1:9/cb' }));
  const page = await fetch(link.link);
  t.equal(page.status, 200);
  const html = await page.text();
  for (const id of ['approve', 'reject', 'needs-review', 'error', 'job-id', 'ref-id', 'expires-at'])
    t.match(html, `data-testid="${id}"`, id);
  t.match(html, verificationId);
  t.notMatch(html, /<script|src=|href="https?:/, 'no scripts, no external assets');

  const status = await post(`${sandbox.url}/v1/job_status`, {
    ...signed(),
    user_id: verificationId,
    job_id: verificationId,
    history: false,
    image_links: false,
  });
  t.equal(status.status, 404, 'no job yet');
  t.equal(
    (await post(`${sandbox.url}/v1/job_status`, { ...signed('wrong'), user_id: verificationId, job_id: verificationId })).status,
    401,
  );
  t.equal((await post(`${sandbox.url}/v1/job_status`, { ...signed() })).status, 400, 'job_id and user_id are required');
  t.equal((await fetch(`${sandbox.url}/smileid/link/nope`)).status, 404);
  t.match(await (await fetch(`${sandbox.url}/smileid`)).text(), link.ref_id, 'the links index lists it');
});

t.test('Approve: a signed callback to the link callback_url that our verifier accepts, and a signed job_status', async (t) => {
  const receiver = await callbackReceiver(t);
  const sandbox = await sandboxFor(t);
  const { body: link } = await post(`${sandbox.url}/v1/smile_links`, linkRequest({ callback_url: receiver.url }));

  const decided = await decide(link.link, 'approve');
  t.equal(decided.status, 200);
  t.match(decided.html, /data-testid="decision-result"/);
  await waitFor(() => receiver.received.length === 1, 'the callback');

  const rawBody = receiver.received[0]!.rawBody;
  const callback = JSON.parse(rawBody.toString('utf8'));
  t.match(callback, {
    ResultCode: '1012',
    SmileJobID: /^\d{10}$/,
    PartnerParams: { job_id: verificationId, user_id: verificationId, job_type: 1 },
  });
  t.ok(new Signature(secrets.partnerId, secrets.apiKey).confirm_signature(callback.timestamp, callback.signature), 'the SDK confirms it');
  t.doesNotThrow(() => verifySmileIdCallback({ rawBody, partnerId: secrets.partnerId, apiKey: secrets.apiKey }), 'our verifier accepts it');
  t.match(parseSmileIdWebhook(rawBody), { verificationId, providerRef: verificationId, providerStatus: '1012', status: 'approved' });

  const status = await post(`${sandbox.url}/v1/job_status`, {
    ...signed(),
    user_id: verificationId,
    job_id: verificationId,
    history: false,
    image_links: false,
  });
  t.equal(status.status, 200);
  t.match(status.body, {
    job_complete: true,
    job_success: true,
    result: { ResultCode: '1012', SmileJobID: callback.SmileJobID, PartnerParams: { job_id: verificationId } },
  });
  t.ok(
    new Signature(secrets.partnerId, secrets.apiKey).confirm_signature(status.body.timestamp, status.body.signature),
    'the response is signed',
  );

  // A reviewer changes it: same SmileJobID, new result, new callback.
  await decide(link.link, 'reject');
  await waitFor(() => receiver.received.length === 2, 'the second callback');
  const second = JSON.parse(receiver.received[1]!.rawBody.toString('utf8'));
  t.match(second, { ResultCode: '1013', SmileJobID: callback.SmileJobID });
  t.not(parseSmileIdWebhook(receiver.received[1]!.rawBody).providerEventId, parseSmileIdWebhook(rawBody).providerEventId);
});

t.test('our client against the sandbox: link, then job status through every button', async (t) => {
  const receiver = await callbackReceiver(t);
  const sandbox = await sandboxFor(t);
  const client = createSmileIdClient({ apiUrl: sandbox.url, ...secrets, callbackUrl: receiver.url });
  const session = await client.createLink({ verificationId, templateId: null, idempotencyKey: 'k' });
  t.match(session, { providerRef: verificationId, sessionUrl: new RegExp(`^${sandbox.url}/smileid/link/`), status: 'pending' });
  t.match(await client.fetchJobStatus(verificationId), { providerStatus: 'not_found', status: 'pending' });
  for (const [button, providerStatus, status] of [
    ['review', '0814', 'needs_review'],
    ['error', '1015', 'error'],
    ['reject', '1013', 'declined'],
    ['approve', '1012', 'approved'],
  ] as const) {
    t.equal((await decide(session.sessionUrl!, button)).status, 200);
    t.match(await client.fetchJobStatus(verificationId), { providerStatus, status }, button);
  }
  t.equal((await decide(session.sessionUrl!, 'maybe')).status, 400, 'unknown decision');
});

t.test('callbacks are retried, each attempt re-signed, and bounded', async (t) => {
  const flaky = await callbackReceiver(t, (attempt) => (attempt < 3 ? 500 : 200));
  const log = sandboxLog();
  const sandbox = await sandboxFor(t, { retryDelaysMs: [0, 20, 20, 20], log });
  const { body: link } = await post(`${sandbox.url}/v1/smile_links`, linkRequest({ callback_url: flaky.url }));
  await decide(link.link, 'approve');
  await waitFor(() => flaky.received.length === 3, 'three attempts');
  for (const { rawBody } of flaky.received) t.doesNotThrow(() => verifySmileIdCallback({ rawBody, ...secrets }));

  const down = await callbackReceiver(t, () => 503);
  const { body: other } = await post(`${sandbox.url}/v1/smile_links`, linkRequest({ callback_url: down.url }));
  await decide(other.link, 'reject');
  await waitFor(() => log.count(/giving up$/) === 1, 'the sandbox to give up');
  t.equal(down.received.length, 4, 'every attempt, then no more');
});

t.test('without a callback_url the configured target gets the callback', async (t) => {
  const receiver = await callbackReceiver(t);
  const sandbox = await sandboxFor(t, { target: receiver.url });
  const { body: link } = await post(`${sandbox.url}/v1/smile_links`, linkRequest());
  await decide(link.link, 'review');
  await waitFor(() => receiver.received.length === 1, 'the callback');
  t.match(JSON.parse(receiver.received[0]!.rawBody.toString('utf8')), { ResultCode: '0814', IsFinalResult: 'false' });
});

t.test('an expired link says so and decides nothing', async (t) => {
  const receiver = await callbackReceiver(t);
  const sandbox = await sandboxFor(t);
  // Long enough to be still valid at the first look on a loaded machine.
  const expiresAt = Date.now() + 2_000;
  const { body: link } = await post(
    `${sandbox.url}/v1/smile_links`,
    linkRequest({ callback_url: receiver.url, expires_at: new Date(expiresAt).toISOString() }),
  );
  t.equal((await fetch(link.link)).status, 200, 'valid at first');
  const page = await eventually(
    () => fetch(link.link).then(async (r) => ({ status: r.status, text: await r.text() })),
    (p) => p.status === 410,
    { timeoutMs: 10_000, what: 'the link to expire' },
  );
  t.ok(Date.now() >= expiresAt, 'not before its expiry');
  t.equal(page.status, 410);
  t.match(page.text, 'This link has expired');
  const attempt = await decide(link.link, 'approve');
  t.equal(attempt.status, 410);
  t.match(attempt.html, 'This link has expired');
  t.equal(
    (await post(`${sandbox.url}/v1/job_status`, { ...signed(), user_id: verificationId, job_id: verificationId })).status,
    404,
    'no job',
  );
  // Callbacks go out in the order they are made: once a later link's callback is in, one for the
  // expired link would have come first.
  const later = 'later-job';
  const { body: other } = await post(
    `${sandbox.url}/v1/smile_links`,
    linkRequest({ callback_url: receiver.url, user_id: later, partner_params: { job_id: later, user_id: later, job_type: 1 } }),
  );
  await decide(other.link, 'approve');
  await waitFor(() => receiver.received.length > 0, 'the later link’s callback');
  t.same(
    receiver.received.map(({ rawBody }) => JSON.parse(rawBody.toString('utf8')).PartnerParams?.job_id),
    [later],
    'no callback for the expired link',
  );
});

t.test('a sandbox started without SmileID secrets simulates no SmileID', async (t) => {
  const sandbox = await sandboxFor(t, { withSmileId: false });
  t.equal((await post(`${sandbox.url}/v1/smile_links`, linkRequest())).status, 404);
});
