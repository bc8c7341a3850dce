// Outbound webhooks on the real stack: endpoint management, Standard Webhooks signatures checked
// by the official package, retries on a (millisecond) schedule, dead letter and manual retry, and
// a slow endpoint that must not hold a verification up.
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { InjectOptions } from 'fastify';
import t from 'tap';
import { webhookDeliveries } from '../../db/schema/index.ts';
import { createTenant } from '../../api/services/tenants.ts';
import { parseDurationList } from '../../config/duration.ts';
import { parseEnv } from '../../config/env.ts';
import {
  DEFAULT_WEBHOOK_RETRY_SCHEDULE,
  DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS,
  DEFAULT_WEBHOOK_RETRY_SCHEDULE_TEXT,
} from '../../domain/retry-schedule.ts';
import { waitFor } from '../helpers/eventually.ts';
import { TEST_OPERATOR_TOKEN, eventually, startStack, type Stack } from '../helpers/stack.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

/** Template sync is an operator action. */
const operator = { authorization: `Bearer ${TEST_OPERATOR_TOKEN}` };

// Three retries, then dead: 4 attempts in ~300 ms.
const SCHEDULE = '50ms,100ms,150ms';
const ATTEMPTS = 4;

type Api = (
  method: InjectOptions['method'],
  url: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<{ status: number; body: any; headers: Record<string, unknown> }>;

function apiFor(stack: Stack, apiKey: string): Api {
  return async (method, url, body, headers = {}) => {
    const res = await stack.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${apiKey}`, ...headers },
      ...(body === undefined ? {} : { payload: body as object }),
    });
    return { status: res.statusCode, body: res.body ? res.json() : null, headers: res.headers };
  };
}

/** A tenant of its own (one endpoint per tenant) pointed at the receiver. */
async function tenantWithEndpoint(stack: Stack, name: string, receiver: WebhookReceiver): Promise<Api> {
  const { apiKey } = await createTenant(stack.database.db, name);
  const api = apiFor(stack, apiKey);
  const put = await api('PUT', '/v1/webhook-endpoint', { url: receiver.url });
  if (put.status !== 201) throw new Error(`PUT /v1/webhook-endpoint answered ${put.status}: ${JSON.stringify(put.body)}`);
  receiver.secret = put.body.secret;
  return api;
}

async function decidePersona(stack: Stack, sessionUrl: string, decision: 'approved' | 'declined'): Promise<void> {
  const inquiryId = new URL(sessionUrl).searchParams.get('inquiry-id')!;
  const response = await fetch(`${stack.sandboxUrl}/persona/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ 'inquiry-id': inquiryId, decision }).toString(),
  });
  await response.text();
  if (response.status !== 200) throw new Error(`sandbox decision answered ${response.status}`);
}

async function createPersona(api: Api, reference: string): Promise<{ id: string; sessionUrl: string }> {
  const created = await api('POST', '/v1/verifications', { provider: 'persona', reference }, { prefer: 'wait=15' });
  if (created.status !== 201) throw new Error(`create answered ${created.status}`);
  return created.body;
}

async function deliveriesOf(api: Api, verificationId: string): Promise<any[]> {
  const res = await api('GET', `/v1/webhook-deliveries?verificationId=${verificationId}&limit=100`);
  return res.body.data;
}

// ajv-formats is CommonJS: under NodeNext its default import is the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** The verification without history (an outbound webhook's `data`), as the schema GET /openapi.json serves for GET /v1/verifications/:id. */
async function servedSummaryValidator(stack: Stack) {
  const spec = (await stack.app.inject({ method: 'GET', url: '/openapi.json' })).json();
  const { $id: _id, ...verification } = spec.paths['/v1/verifications/{id}'].get.responses['200'].content['application/json'].schema;
  const { history: _history, ...properties } = verification.properties;
  const summary = { ...verification, properties, required: verification.required.filter((f: string) => f !== 'history') };
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile({ ...summary, additionalProperties: false });
}

const settled = (deliveries: any[]) => deliveries.length > 0 && deliveries.every((d) => d.status === 'succeeded' || d.status === 'dead');

t.test('the default retry schedule: 1 s, 5 s, 15 s, then growing, at least 24 h; one list in config, workflow and docs', async (t) => {
  t.equal(DEFAULT_WEBHOOK_RETRY_SCHEDULE, '1s,5s,15s,1m,5m,30m,1h,2h,4h,8h,8h,8h');
  t.equal(parseEnv({ NODE_ENV: 'test' }).OUTBOUND_RETRY_SCHEDULE, DEFAULT_WEBHOOK_RETRY_SCHEDULE, 'the environment default');
  t.equal(DEFAULT_WEBHOOK_RETRY_SCHEDULE_TEXT, '1 s, 5 s, 15 s, 1 m, 5 m, 30 m, 1 h, 2 h, 4 h, 8 h, 8 h, 8 h');
  const schedule = parseDurationList(DEFAULT_WEBHOOK_RETRY_SCHEDULE);
  t.same(schedule, DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS);
  t.same(schedule.slice(0, 3), [1000, 5000, 15000]);
  t.ok(schedule.reduce((a, b) => a + b, 0) >= 24 * 3_600_000, 'at least 24 h in all');
});

t.test('outbound webhooks', async (t) => {
  const stack = await startStack(t, { env: { OUTBOUND_RETRY_SCHEDULE: SCHEDULE } });

  await t.test(
    'PUT /v1/webhook-endpoint: 400 on a non-URL or non-http URL; 201 with a whsec_ secret; a new URL keeps it; rotateSecret replaces it',
    async (t) => {
      const { apiKey } = await createTenant(stack.database.db, 'endpoint-tenant');
      const api = apiFor(stack, apiKey);
      const notUrl = await api('PUT', '/v1/webhook-endpoint', { url: 'not a url' });
      t.equal(notUrl.status, 400);
      t.match(notUrl.body, { code: 'validation_failed', detail: /url/ });
      const ftp = await api('PUT', '/v1/webhook-endpoint', { url: 'ftp://example.com/hooks' });
      t.equal(ftp.status, 400);
      t.match(ftp.body, { code: 'invalid_webhook_url', detail: /http or https/ });
      t.equal((await api('GET', '/v1/webhook-endpoint')).status, 404, 'no endpoint yet');

      const created = await api('PUT', '/v1/webhook-endpoint', { url: 'https://client.example/hooks' });
      t.equal(created.status, 201);
      t.match(created.body, { url: 'https://client.example/hooks', secret: /^whsec_[A-Za-z0-9+/]{32}$/ });
      t.equal(Buffer.from(created.body.secret.slice('whsec_'.length), 'base64').length, 24, '24 random bytes');
      const moved = await api('PUT', '/v1/webhook-endpoint', { url: 'https://client.example/v2/hooks' });
      t.equal(moved.status, 200);
      t.match(moved.body, { url: 'https://client.example/v2/hooks', secret: created.body.secret });
      const rotated = await api('PUT', '/v1/webhook-endpoint', { url: 'https://client.example/v2/hooks', rotateSecret: true });
      t.equal(rotated.status, 200);
      t.not(rotated.body.secret, created.body.secret, 'a new secret');
      t.match((await api('GET', '/v1/webhook-endpoint')).body, { url: 'https://client.example/v2/hooks', secret: rotated.body.secret });
      t.equal(
        (await stack.app.inject({ method: 'PUT', url: '/v1/webhook-endpoint', payload: { url: 'https://x.example' } })).statusCode,
        401,
        'needs an API key',
      );
      const spec = (await stack.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      t.match(spec.paths['/v1/webhook-endpoint'].put.description, /keeps the secret, unless `rotateSecret: true`/, 'documented');
    },
  );

  await t.test('approve flow, receiver failing the first two attempts of each event: one success per event, attempts listed', async (t) => {
    const receiver = await startWebhookReceiver(t, ({ attempt }) => ({ status: attempt <= 2 ? 500 : 200 }));
    const api = await tenantWithEndpoint(stack, 'flaky-tenant', receiver);
    const { id, sessionUrl } = await createPersona(api, 'flaky-1');
    await decidePersona(stack, sessionUrl, 'approved');

    const deliveries = await eventually(
      () => deliveriesOf(api, id),
      (list) => list.some((d) => d.eventType === 'verification.completed') && settled(list),
      { timeoutMs: 30_000 },
    );
    const types = deliveries.map((d) => d.eventType);
    t.ok(types.includes('verification.created'), 'created');
    t.ok(types.includes('verification.status_changed'), 'status_changed');
    t.ok(types.includes('verification.completed'), 'completed');
    t.notOk(types.includes('verification.failed'));
    for (const d of deliveries) {
      t.match(
        d,
        { status: 'succeeded', attempts: 3, lastStatusCode: 200, lastError: null, deliveredAt: String, verificationId: id },
        `${d.eventType} delivered at the third attempt`,
      );
    }
    const delivered = receiver.delivered();
    t.equal(delivered.length, deliveries.length, 'exactly one successful delivery per event');
    t.same(new Set(delivered.map((r) => r.id)), new Set(deliveries.map((d) => d.id)), 'webhook-id is the delivery id');
    t.ok(
      receiver.received.every((r) => r.signatureValid),
      'every attempt verifies with standardwebhooks',
    );
    t.equal(receiver.received.filter((r) => r.status === 500).length, 2 * deliveries.length, 'two failed attempts each');

    const completed = delivered.find((r) => r.body.type === 'verification.completed')!;
    t.match(completed.body, {
      type: 'verification.completed',
      timestamp: String,
      data: { id, status: 'approved', provider: 'persona', reference: 'flaky-1', result: { decision: 'approved' } },
    });
    t.notOk('history' in completed.body.data, 'data has no history');
    const read = await api('GET', `/v1/verifications/${id}`);
    const { history: _history, ...withoutHistory } = read.body;
    t.same(
      Object.keys(completed.body.data).sort(),
      Object.keys(withoutHistory).sort(),
      'data is the verification as GET shows it, minus history',
    );
    t.same(completed.body.data.result, withoutHistory.result);
    // The outbound body is built by other code than the GET response (db/verification-view.ts for
    // the activity): it must still be exactly what the served schema promises, or a test fails.
    const validSummary = await servedSummaryValidator(stack);
    for (const { body } of delivered) {
      t.ok(validSummary(body.data), `${body.type}: data matches the served Verification schema minus history`, {
        errors: validSummary.errors,
      });
    }
    const changes = delivered.filter((r) => r.body.type === 'verification.status_changed').map((r) => r.body.data.status);
    t.ok(changes.includes('approved'), 'a status_changed carries approved');

    const created = delivered.find((r) => r.body.type === 'verification.created')!;
    t.match(created.body.data, { id, sessionUrl, providerRef: /^inq_/ }, 'created once the session exists');
    const stored = await stack.database.db.select().from(webhookDeliveries);
    t.same(stored.find((row) => row.id === completed.id)?.payload, completed.body, 'payload is the body as sent');
  });

  await t.test('decline flow: verification.failed with the declined verification', async (t) => {
    const receiver = await startWebhookReceiver(t);
    const api = await tenantWithEndpoint(stack, 'decline-tenant', receiver);
    const { id, sessionUrl } = await createPersona(api, 'decline-1');
    await decidePersona(stack, sessionUrl, 'declined');
    const deliveries = await eventually(
      () => deliveriesOf(api, id),
      (list) => list.some((d) => d.eventType === 'verification.failed') && settled(list),
    );
    t.notOk(deliveries.some((d) => d.eventType === 'verification.completed'));
    const failed = receiver.delivered().find((r) => r.body.type === 'verification.failed');
    t.match(failed?.body, { type: 'verification.failed', data: { id, status: 'declined', result: { decision: 'declined' } } });
    t.ok(deliveries.every((d) => d.status === 'succeeded' && d.attempts === 1));
  });

  await t.test('multi-step template: verification.step.completed per step with the advanced progress', async (t) => {
    const synced = await stack.request('POST', '/v1/templates/sync', undefined, operator);
    t.equal(synced.status, 200, 'idmeta templates synced');
    const receiver = await startWebhookReceiver(t);
    const api = await tenantWithEndpoint(stack, 'steps-tenant', receiver);
    const created = await api('POST', '/v1/verifications', { provider: 'idmeta', templateId: '306' });
    t.equal(created.status, 202);
    const id = created.body.id;
    const deliveries = await eventually(
      () => deliveriesOf(api, id),
      (list) =>
        list.filter((d) => d.eventType === 'verification.step.completed').length === 3 &&
        list.some((d) => ['verification.completed', 'verification.failed'].includes(d.eventType)) &&
        settled(list),
      { timeoutMs: 30_000 },
    );
    const steps = receiver
      .delivered()
      .filter((r) => r.body.type === 'verification.step.completed')
      .map((r) => r.body.data.progress)
      .sort((a, b) => a.currentStep - b.currentStep);
    t.match(steps, [
      { currentStep: 1, totalSteps: 3, percentage: 33 },
      { currentStep: 2, totalSteps: 3, percentage: 67 },
      { currentStep: 3, totalSteps: 3, percentage: 100 },
    ]);
    t.ok(deliveries.some((d) => d.eventType === 'verification.created'));
    t.same(Object.keys(steps[0]!).sort(), ['currentStep', 'message', 'percentage', 'totalSteps'], 'progress as GET shows it');
  });

  await t.test(
    'an endpoint that always fails: dead after the schedule; 409 while not retryable; manual retry after the fix succeeds',
    async (t) => {
      let healthy = false;
      const receiver = await startWebhookReceiver(t, () => ({ status: healthy ? 204 : 503 }));
      const api = await tenantWithEndpoint(stack, 'dead-tenant', receiver);
      const { id } = await createPersona(api, 'dead-1');
      const [dead] = await eventually(
        () => deliveriesOf(api, id),
        (list) => list.length === 1 && list[0].status === 'dead',
      );
      t.match(dead, {
        eventType: 'verification.created',
        status: 'dead',
        attempts: ATTEMPTS,
        lastStatusCode: 503,
        lastError: /^HTTP 503/,
        nextAttemptAt: null,
        deliveredAt: null,
      });
      const listedDead = await api('GET', '/v1/webhook-deliveries?status=dead');
      t.same(
        listedDead.body.data.map((d: { id: string }) => d.id),
        [dead.id],
        'filtered by status',
      );

      healthy = true;
      const retried = await api('POST', `/v1/webhook-deliveries/${dead.id}/retry`);
      t.equal(retried.status, 202);
      t.match(retried.body, { id: dead.id, status: 'pending' });
      const again = await api('POST', `/v1/webhook-deliveries/${dead.id}/retry`);
      t.equal(again.status, 409, 'already queued');
      const done = await eventually(
        () => deliveriesOf(api, id),
        (list) => list[0]?.status === 'succeeded',
      );
      t.match(done[0], { status: 'succeeded', attempts: ATTEMPTS + 1, lastStatusCode: 204, lastError: null });
      t.equal(receiver.delivered().length, 1);
      const run = await stack.temporal.client.workflow.getHandle(`webhook-delivery-${dead.id}-retry-1`).result();
      t.match(run, { outcome: 'delivered', attempts: 1 }, 'the retry ran as webhook-delivery-<id>-retry-1');

      const succeeded = await api('POST', `/v1/webhook-deliveries/${dead.id}/retry`);
      t.equal(succeeded.status, 409);
      t.match(succeeded.body, { code: 'delivery_succeeded' });
      t.equal((await api('POST', '/v1/webhook-deliveries/00000000-0000-4000-8000-000000000000/retry')).status, 404);
      const other = await createTenant(stack.database.db, 'nosy-tenant');
      t.equal(
        (await apiFor(stack, other.apiKey)('POST', `/v1/webhook-deliveries/${dead.id}/retry`)).status,
        404,
        "another tenant's delivery is 404",
      );
      t.same((await apiFor(stack, other.apiKey)('GET', '/v1/webhook-deliveries')).body, { data: [], nextCursor: null });
    },
  );

  await t.test('a slow endpoint (10 s per request) does not delay the verification reaching approved', async (t) => {
    const receiver = await startWebhookReceiver(t, () => ({ status: 200, delayMs: 10_000 }));
    const api = await tenantWithEndpoint(stack, 'slow-tenant', receiver);
    const { id, sessionUrl } = await createPersona(api, 'slow-1');
    const decidedAt = Date.now();
    await decidePersona(stack, sessionUrl, 'approved');
    const approved = await eventually(
      () => api('GET', `/v1/verifications/${id}`),
      (r) => r.body.status === 'approved',
      { timeoutMs: 9_000 },
    );
    const elapsed = Date.now() - decidedAt;
    t.equal(approved.body.status, 'approved');
    t.ok(elapsed < 8_000, `approved after ${elapsed} ms, with the endpoint still answering`);
    t.equal(receiver.received.length, 0, 'no webhook answered yet');
    // The delivery starts once the decision is recorded, so it may reach the endpoint just after
    // the GET saw `approved`; then it is held there for 10 s, still unanswered.
    await waitFor(() => receiver.inFlight() >= 1, 'the first delivery to reach the endpoint');
    t.equal(receiver.received.length, 0, 'the first delivery is still waiting on the endpoint');
    // Delivered one after another (ordered), 10 s each.
    const deliveries = await eventually(
      () => deliveriesOf(api, id),
      (list) => list.some((d) => d.eventType === 'verification.completed') && settled(list),
      { timeoutMs: 60_000 },
    );
    t.ok(
      deliveries.every((d) => d.status === 'succeeded' && d.attempts === 1),
      'each delivered once, within the 15 s timeout',
    );
  });
});
