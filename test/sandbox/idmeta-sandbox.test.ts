// The IDmeta simulator speaks what providers/idmeta expects: our client against it, and its
// webhooks checked with an HMAC computed here, independently of both.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { createIdmetaAdapter } from '../../providers/idmeta/index.ts';
import { overall, STATUS } from '../../sandbox/idmeta/state.ts';
import { startSandbox } from '../../sandbox/server.ts';
import { waitFor } from '../helpers/eventually.ts';

type TestContext = Parameters<Parameters<typeof t.test>[0]>[0];

const secrets = { apiKey: 'idmeta_sandbox_test_key', webhookSecret: 'idmeta_sandbox_test_secret' };
const verificationId = '0b6c1f3e-5a2d-4e8f-9c7b-1d2e3f4a5b6c';

async function setup(tt: TestContext) {
  const received: { headers: IncomingHttpHeaders; rawBody: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, rawBody: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  tt.teardown(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const target = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/idmeta`;
  const sandbox = await startSandbox({
    webhookTargets: { persona: 'http://127.0.0.1:9/unused', idmeta: target },
    secrets: { persona: { apiKey: 'p', webhookSecret: 'p' }, idmeta: secrets },
    webhookRetryDelaysMs: [0],
  });
  tt.teardown(() => sandbox.close());
  const adapter = createIdmetaAdapter({ apiUrl: sandbox.url, apiKey: secrets.apiKey, webhookSecret: secrets.webhookSecret });
  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${sandbox.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${secrets.apiKey}`, 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  };
  return { sandbox, adapter, api, received };
}

t.test('templates: Bearer auth, pagination the client follows, plans as steps', async (t) => {
  const { api, adapter } = await setup(t);
  t.match(await api('GET', '/api/v1/templates', undefined, { authorization: 'Bearer wrong' }), {
    status: 401,
    body: { message: 'Unauthenticated.' },
  });
  const page = await api('GET', '/api/v1/templates?page=2&per_page=2');
  t.match(page.body.meta, { current_page: 2, last_page: 3, per_page: 2, total: 5 });
  t.equal(page.body.data.length, 2);
  const templates = await adapter.steps!.listTemplates();
  t.same(
    templates.map((tpl) => tpl.externalId),
    ['306', '170', '171', '312', '318'],
  );
  t.same(
    templates[0]?.steps.map((s) => s.key),
    ['document', 'selfie', 'database_check'],
  );
  t.same(await adapter.steps!.listSteps('170'), [{ key: 'philippines/nbiclearance', name: 'NBI clearance check' }]);
  await t.rejects(adapter.steps!.listSteps('4242'), { name: 'ProviderRequestError', details: { status: 404, retryable: false } });
});

t.test('a three-step verification through the adapter: create, steps (idempotent), finalize, signed webhooks', async (t) => {
  const { adapter, received } = await setup(t);
  const session = await adapter.createSession({ verificationId, templateId: '306', idempotencyKey: 'session-1' });
  t.match(session, { providerRef: /^[0-9a-f-]{36}$/, sessionUrl: /\/idmeta\/verify\//, providerStatus: 'EMPTY', status: 'created' });
  t.equal(
    (await adapter.createSession({ verificationId, templateId: '306', idempotencyKey: 'session-1' })).providerRef,
    session.providerRef,
    'same Idempotency-Key, same verification',
  );

  const early = await adapter.steps!.finalize({ providerRef: session.providerRef, templateId: '306' });
  t.match(early, { providerStatus: 'INCOMPLETE', status: 'pending' }, 'finalizing with steps missing: incomplete');

  const steps = await adapter.steps!.listSteps('306');
  for (const [stepIndex, step] of steps.entries()) {
    await adapter.steps!.runStep({
      providerRef: session.providerRef,
      templateId: '306',
      step,
      stepIndex,
      idempotencyKey: `step-${stepIndex}`,
    });
  }
  // A retried step (same key) is answered, not run again.
  await adapter.steps!.runStep({
    providerRef: session.providerRef,
    templateId: '306',
    step: steps[0]!,
    stepIndex: 0,
    idempotencyKey: 'step-0',
  });
  const counters: any = await (
    await fetch(`${new URL(session.sessionUrl!).origin}/idmeta/admin/verifications/${session.providerRef}`)
  ).json();
  t.match(counters.steps[0], { key: 'document', calls: 2, successes: 2, executions: 1 });

  const final = await adapter.steps!.finalize({ providerRef: session.providerRef, templateId: '306' });
  t.match(final, { providerStatus: 'VERIFIED', status: 'approved', document: { type: 'national_id', number: /^PSN-/ } });
  t.match(await adapter.fetchState(session.providerRef), { providerStatus: 'VERIFIED', status: 'approved' });

  await waitFor(() => received.length === 4, 'three step webhooks and the finalize webhook');
  for (const webhook of received) {
    const expected = createHmac('sha256', secrets.webhookSecret).update(webhook.rawBody).digest('hex');
    t.equal(webhook.headers['x-idmeta-signature'], expected, 'hex HMAC-SHA256 of the raw body');
    t.doesNotThrow(() => adapter.verifyWebhook({ rawBody: Buffer.from(webhook.rawBody), headers: webhook.headers }));
  }
  const events = received.map((w) => adapter.parseWebhook(Buffer.from(w.rawBody)));
  t.same(
    events.map((e) => e.eventType),
    ['verification.step_completed', 'verification.step_completed', 'verification.step_completed', 'verification.finalized'],
  );
  t.ok(
    events.every((e) => e.verificationId === verificationId && e.providerRef === session.providerRef),
    'webhooks name our verification',
  );
  t.match(events.at(-1), { status: 'approved', providerStatus: 'VERIFIED' });
});

t.test('errors the client must classify: unknown plan 422, missing ID number 422, chaos 503 with Retry-After, outage', async (t) => {
  const { api, adapter } = await setup(t);
  const session = await adapter.createSession({ verificationId, templateId: '170', idempotencyKey: 's' });
  const nbi = { key: 'philippines/nbiclearance', name: 'NBI' };
  await t.rejects(
    adapter.steps!.runStep({
      providerRef: session.providerRef,
      templateId: '170',
      step: { key: 'selfie', name: 'Selfie' },
      stepIndex: 0,
      idempotencyKey: 'a',
    }),
    { name: 'ProviderRequestError', details: { status: 422, retryable: false } },
  );
  await t.rejects(
    adapter.steps!.runStep({ providerRef: session.providerRef, templateId: '170', step: nbi, stepIndex: 0, idempotencyKey: 'b' }),
    { message: /clearanceNo field is required/, details: { status: 422, retryable: false } },
  );

  t.match(await api('POST', '/idmeta/admin/chaos', { verification_id: session.providerRef, step: nbi.key, failures: 1 }), { status: 200 });
  const applicant = { idNumber: 'NBI-1', firstName: 'Juan', lastName: 'Dela Cruz', dateOfBirth: '1990-01-01' };
  await t.rejects(
    adapter.steps!.runStep({
      providerRef: session.providerRef,
      templateId: '170',
      step: nbi,
      stepIndex: 0,
      idempotencyKey: 'c',
      applicant,
    }),
    { name: 'ProviderRequestError', details: { status: 503, retryable: true, retryAfterMs: 1000 } },
  );
  await adapter.steps!.runStep({
    providerRef: session.providerRef,
    templateId: '170',
    step: nbi,
    stepIndex: 0,
    idempotencyKey: 'c',
    applicant,
  });
  t.match(await adapter.steps!.finalize({ providerRef: session.providerRef, templateId: '170' }), {
    status: 'approved',
    document: { type: 'nbi_clearance', number: 'NBI-1', firstName: 'JUAN' },
  });

  await api('POST', '/idmeta/admin/outage', { enabled: true });
  await t.rejects(adapter.fetchState(session.providerRef), { name: 'ProviderRequestError', details: { status: 503, retryable: true } });
  await api('POST', '/idmeta/admin/outage', { enabled: false });
  t.match(await adapter.fetchState(session.providerRef), { status: 'approved' });
  t.match(await api('POST', '/idmeta/admin/chaos', { template_id: 306, step: 'nope', failures: 1 }), {
    status: 422,
    body: { message: /nope is not part of template 306/ },
  });
});

t.test('hosted page: complete a step, then choose Rejected: steps done by the person, finalized, webhooks sent', async (t) => {
  const { adapter, received } = await setup(t);
  const session = await adapter.createSession({ verificationId, templateId: '318', idempotencyKey: 's' });
  const page = await fetch(session.sessionUrl!);
  const html = await page.text();
  t.equal(page.status, 200);
  t.match(html, /Complete step: Selfie and liveness/);
  t.match(html, /data-testid="outcome-rejected"/);
  const post = (form: Record<string, string>) =>
    fetch(session.sessionUrl!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    }).then(async (r) => ({ status: r.status, html: await r.text() }));
  t.match(await post({ action: 'complete_step' }), { status: 200, html: /Selfie and liveness completed/ });
  t.match(await post({ action: 'decide', outcome: 'rejected' }), { status: 200, html: /Outcome sent: rejected/ });
  t.match(await adapter.fetchState(session.providerRef), { providerStatus: 'REJECTED', status: 'declined' });
  // The workflow's own calls afterwards are answered without running anything again.
  await adapter.steps!.runStep({
    providerRef: session.providerRef,
    templateId: '318',
    step: { key: 'aml_screening', name: 'AML' },
    stepIndex: 1,
    idempotencyKey: 'late',
  });
  t.match(await adapter.steps!.finalize({ providerRef: session.providerRef, templateId: '318' }), { status: 'declined' });
  await waitFor(() => received.length === 3, 'two step webhooks and the finalize webhook');
  t.same(
    received.map((w) => JSON.parse(w.rawBody).event),
    ['verification.step_completed', 'verification.step_completed', 'verification.finalized'],
  );
  t.match(
    await post({ action: 'decide', outcome: 'verified' }),
    { status: 200 },
    'deciding again: a reviewer changing it in the dashboard',
  );
  await waitFor(() => received.length === 4, 'the status_changed webhook');
  t.match(JSON.parse(received[3]!.rawBody), {
    event: 'verification.status_changed',
    verification: { status: 3, status_message: 'VERIFIED' },
  });
  t.match(await post({ action: 'decide', outcome: 'maybe' }), { status: 400 });
});

t.test("the simulator's own aggregation: Rejected beats Review Needed beats Verified", async (t) => {
  t.equal(overall([STATUS.verified, STATUS.reviewNeeded, STATUS.rejected]), STATUS.rejected);
  t.equal(overall([STATUS.verified, STATUS.reviewNeeded]), STATUS.reviewNeeded);
  t.equal(overall([STATUS.verified, STATUS.verified]), STATUS.verified);
  t.equal(overall([]), STATUS.empty);
});
