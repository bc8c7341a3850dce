import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { createPersonaClient } from '../../providers/persona/client.ts';
import { verifyPersonaSignature } from '../../providers/persona/signature.ts';
import { parsePersonaWebhook } from '../../providers/persona/webhook.ts';
import { startSandbox } from '../../sandbox/server.ts';
import { waitFor } from '../helpers/eventually.ts';
import { sandboxLog, type SandboxLog } from '../helpers/sandbox-log.ts';

type TestContext = Parameters<Parameters<typeof t.test>[0]>[0];

const secrets = { apiKey: 'persona_sandbox_test_key', webhookSecret: 'wbhsec_sandbox_test_secret' };
const verificationId = '0b6c1f3e-5a2d-4e8f-9c7b-1d2e3f4a5b6c';

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
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/persona`, received };
}

async function sandboxFor(tt: TestContext, target: string, webhookRetryDelaysMs: readonly number[] = [0, 20, 20], log?: SandboxLog) {
  const sandbox = await startSandbox({
    webhookTargets: { persona: target },
    secrets: { persona: secrets },
    webhookRetryDelaysMs,
    ...(log ? { logger: log.logger } : {}),
  });
  tt.teardown(() => sandbox.close());
  return sandbox;
}

function createInquiry(sandboxUrl: string, apiKey: string, idempotencyKey = 'idem-1') {
  return fetch(`${sandboxUrl}/api/v1/inquiries`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
    body: JSON.stringify({
      data: { attributes: { 'inquiry-template-id': 'itmpl_sandbox', 'reference-id': verificationId } },
      meta: { 'auto-create-one-time-link': true },
    }),
  });
}

function decide(sandboxUrl: string, inquiryId: string, decision: string) {
  return fetch(`${sandboxUrl}/persona/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ 'inquiry-id': inquiryId, decision }).toString(),
  });
}

/** Checked with a fresh HMAC here, not with any sandbox or app code. */
function signatureIsValid(delivery: Received): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(delivery.headers['persona-signature']));
  if (match === null) return false;
  const [, timestamp, v1] = match;
  const expected = createHmac('sha256', secrets.webhookSecret).update(`${timestamp}.`).update(delivery.rawBody).digest();
  return timingSafeEqual(expected, Buffer.from(v1 ?? '', 'hex')) && Math.abs(Date.now() / 1000 - Number(timestamp)) < 60;
}

const eventOf = (delivery: Received) => JSON.parse(delivery.rawBody.toString('utf8')).data;

// Persona bodies are deep JSON:API documents; the assertions below check their shape.
const jsonOf = async (response: Response | Promise<Response>): Promise<any> => (await response).json();

t.test('create, approve in the hosted flow, receive two signed webhooks, read the result', async (tt) => {
  const receiver = await webhookReceiver(tt);
  const sandbox = await sandboxFor(tt, receiver.url);

  tt.equal((await fetch(`${sandbox.url}/health`)).status, 200, 'health');
  tt.equal((await createInquiry(sandbox.url, 'wrong-key')).status, 401, 'wrong API key');

  const createdResponse = await createInquiry(sandbox.url, secrets.apiKey);
  tt.equal(createdResponse.status, 201);
  const created = await jsonOf(createdResponse);
  const inquiryId: string = created.data.id;
  tt.match(inquiryId, /^inq_[A-Za-z0-9]{24}$/);
  tt.match(created.data, { type: 'inquiry', attributes: { status: 'created', 'reference-id': verificationId } });
  const createdAt = Date.parse(created.data.attributes['created-at']);
  tt.equal(Date.parse(created.data.attributes['expires-at']) - createdAt, 24 * 60 * 60 * 1000, 'expires 24 h after creation');
  const link = new URL(created.meta['one-time-link']);
  tt.equal(`${link.origin}${link.pathname}`, `${sandbox.url}/persona/verify`);
  tt.equal(link.searchParams.get('inquiry-id'), inquiryId);
  tt.match(link.searchParams.get('code'), /^otl_/);

  const replay = await jsonOf(createInquiry(sandbox.url, secrets.apiKey));
  tt.equal(replay.data.id, inquiryId, 'same Idempotency-Key, same inquiry');
  const other = await jsonOf(createInquiry(sandbox.url, secrets.apiKey, 'idem-2'));
  tt.not(other.data.id, inquiryId, 'another key, another inquiry');

  const flow = await fetch(link);
  const html = await flow.text();
  tt.equal(flow.status, 200);
  tt.match(html, inquiryId);
  for (const testId of ['approve', 'decline', 'needs-review']) tt.match(html, `data-testid="${testId}"`);
  tt.notMatch(html, /<script|https?:\/\/(?!127\.0\.0\.1)/, 'no scripts, no external assets');

  const result = await decide(sandbox.url, inquiryId, 'approved');
  tt.equal(result.status, 200);
  tt.match(await result.text(), 'Decision sent: approved. You can close this tab.');

  await waitFor(() => receiver.received.length >= 2, 'two webhooks');
  const [completed, approved] = receiver.received.map(eventOf);
  tt.equal(completed.attributes.name, 'inquiry.completed');
  tt.equal(completed.attributes.payload.data.attributes.status, 'completed');
  tt.equal(approved.attributes.name, 'inquiry.approved');
  tt.equal(approved.attributes.payload.data.attributes.status, 'approved');
  tt.ok(Date.parse(completed.attributes['created-at']) < Date.parse(approved.attributes['created-at']), 'created-at increases');
  tt.match(completed.id, /^evt_/);
  tt.not(completed.id, approved.id, 'fresh event ids');
  for (const delivery of receiver.received) {
    tt.ok(signatureIsValid(delivery), 'signature verifies with an independent HMAC');
    tt.match(delivery.headers, {
      'content-type': 'application/json',
      'persona-webhook-attempts-made': '1',
      'persona-webhook-attempts-left': '2',
    });
  }

  const fetched = await fetch(`${sandbox.url}/api/v1/inquiries/${inquiryId}?include=verifications,documents`, {
    headers: { authorization: `Bearer ${secrets.apiKey}` },
  });
  const inquiry = await jsonOf(fetched);
  tt.equal(inquiry.data.attributes.status, 'approved');
  const governmentId = inquiry.included.find((item: { type: string }) => item.type === 'verification/government-id');
  tt.match(governmentId?.attributes, {
    status: 'passed',
    'id-class': 'id',
    'identification-number': String,
    'name-first': String,
    'name-last': String,
    birthdate: /^\d{4}-\d{2}-\d{2}$/,
    'address-street-1': String,
    'address-city': String,
    'country-code': /^[A-Z]{2}$/,
    'expiration-date': /^\d{4}-\d{2}-\d{2}$/,
  });
  tt.equal(
    inquiry.data.attributes.fields['current-government-id'].value.id,
    inquiry.included.find((item: { type: string }) => item.type === 'document/government-id')?.id,
    'current-government-id points at the included document',
  );

  tt.equal((await fetch(`${sandbox.url}/api/v1/inquiries/${inquiryId}`)).status, 401, 'GET needs the key too');
  const missing = await fetch(`${sandbox.url}/api/v1/inquiries/inq_missing`, { headers: { authorization: `Bearer ${secrets.apiKey}` } });
  tt.equal(missing.status, 404);

  const index = await (await fetch(`${sandbox.url}/`)).text();
  tt.match(index, `/persona/verify?inquiry-id=${inquiryId}`, 'the index links the inquiry');
});

t.test('what the sandbox sends is what our Persona adapter understands', async (tt) => {
  const receiver = await webhookReceiver(tt);
  const sandbox = await sandboxFor(tt, receiver.url);
  const client = createPersonaClient({ apiUrl: sandbox.url, apiKey: secrets.apiKey, templateId: 'itmpl_sandbox' });

  const session = await client.createInquiry({ verificationId, templateId: null, idempotencyKey: `vf-${verificationId}` });
  tt.match(session, { providerRef: /^inq_/, status: 'created', sessionUrl: /\/persona\/verify\?/ });
  tt.match(await client.fetchInquiry(session.providerRef), { status: 'created', document: null });

  await decide(sandbox.url, session.providerRef, 'declined');
  await waitFor(() => receiver.received.length >= 2, 'two webhooks');
  const normalized = receiver.received.map((delivery) => {
    verifyPersonaSignature({
      rawBody: delivery.rawBody,
      header: String(delivery.headers['persona-signature']),
      secret: secrets.webhookSecret,
    });
    return parsePersonaWebhook(delivery.rawBody);
  });
  tt.match(normalized, [
    { eventType: 'inquiry.completed', status: 'in_progress', verificationId, providerRef: session.providerRef },
    { eventType: 'inquiry.declined', status: 'declined', verificationId, document: { type: 'national_id', number: String } },
  ]);
  tt.match(await client.fetchInquiry(session.providerRef), {
    providerStatus: 'declined',
    status: 'declined',
    document: { type: 'national_id', idClass: 'id', firstName: String, address: String, country: /^[A-Z]{2}$/ },
  });
});

t.test('a second decision is a reviewer changing it: only the decision event is sent', async (tt) => {
  const receiver = await webhookReceiver(tt);
  const sandbox = await sandboxFor(tt, receiver.url);
  const { data } = await jsonOf(createInquiry(sandbox.url, secrets.apiKey));

  await decide(sandbox.url, data.id, 'needs_review');
  await waitFor(() => receiver.received.length >= 2, 'first two webhooks');
  await decide(sandbox.url, data.id, 'approved');
  await waitFor(() => receiver.received.length >= 3, 'the re-decision');
  tt.same(
    receiver.received.map((delivery) => eventOf(delivery).attributes.name),
    ['inquiry.completed', 'inquiry.marked-for-review', 'inquiry.approved'],
  );
  const times = receiver.received.map((delivery) => Date.parse(eventOf(delivery).attributes['created-at']));
  tt.ok(times[0]! < times[1]! && times[1]! < times[2]!, 'created-at strictly increasing');
});

t.test('failed deliveries are retried on the schedule, re-signed, and bounded', async (tt) => {
  const receiver = await webhookReceiver(tt, () => 503);
  const log = sandboxLog();
  const sandbox = await sandboxFor(tt, receiver.url, [0, 30, 30], log);
  const { data } = await jsonOf(createInquiry(sandbox.url, secrets.apiKey));

  await decide(sandbox.url, data.id, 'approved');
  await waitFor(() => log.count(/giving up$/) === 2, 'the sandbox to give up both events');
  tt.equal(receiver.received.length, 6, 'three attempts of each event, none after the last one');

  const attemptsOf = (name: string) => receiver.received.filter((delivery) => eventOf(delivery).attributes.name === name);
  for (const name of ['inquiry.completed', 'inquiry.approved']) {
    const attempts = attemptsOf(name);
    tt.same(
      attempts.map((delivery) => delivery.headers['persona-webhook-attempts-made']),
      ['1', '2', '3'],
      `${name} attempts`,
    );
    tt.same(
      attempts.map((delivery) => delivery.headers['persona-webhook-attempts-left']),
      ['2', '1', '0'],
    );
    tt.equal(new Set(attempts.map((delivery) => eventOf(delivery).id)).size, 1, 'same event id on every attempt');
    tt.ok(attempts.every(signatureIsValid), 'every attempt is signed');
  }
});

t.test('a receiver that recovers gets the event on a retry', async (tt) => {
  const receiver = await webhookReceiver(tt, (attempt) => (attempt === 1 ? 500 : 200));
  // Long enough that the newer event's first attempt surely goes out before the retry.
  const log = sandboxLog();
  const sandbox = await sandboxFor(tt, receiver.url, [0, 300], log);
  const { data } = await jsonOf(createInquiry(sandbox.url, secrets.apiKey));

  await decide(sandbox.url, data.id, 'approved');
  // Both events delivered: nothing more is sent after that.
  await waitFor(() => log.count(/ delivered$/) === 2, 'both events delivered');
  const names = receiver.received.map((delivery) => eventOf(delivery).attributes.name);
  tt.same(names, ['inquiry.completed', 'inquiry.approved', 'inquiry.completed'], 'the retried event arrives after the newer one');
});

t.test('bad input to the hosted flow and the API', async (tt) => {
  const receiver = await webhookReceiver(tt);
  const sandbox = await sandboxFor(tt, receiver.url);
  const { data } = await jsonOf(createInquiry(sandbox.url, secrets.apiKey));

  tt.equal((await fetch(`${sandbox.url}/persona/verify?inquiry-id=inq_nope`)).status, 404, 'unknown inquiry page');
  tt.equal((await decide(sandbox.url, 'inq_nope', 'approved')).status, 404, 'unknown inquiry decision');
  tt.equal((await decide(sandbox.url, data.id, 'maybe')).status, 400, 'unknown decision');
  const noTemplate = await fetch(`${sandbox.url}/api/v1/inquiries`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secrets.apiKey}`, 'content-type': 'application/json' },
    body: '{"data":{"attributes":{}}}',
  });
  tt.equal(noTemplate.status, 400, 'template id required');
  tt.equal((await fetch(`${sandbox.url}/api/v1/inquiries/%zz`, { headers: { authorization: `Bearer ${secrets.apiKey}` } })).status, 404);
  tt.equal((await fetch(`${sandbox.url}/nowhere`)).status, 404);
  tt.equal(receiver.received.length, 0, 'nothing was sent');
});
