// The API contract through the typed client (clients/typescript) on the real stack: the main
// verification flows, operator actions and webhook endpoint/deliveries, each response checked
// at run time against the OpenAPI document the API serves (test/helpers/contract-client.ts) and
// at compile time against the generated types. A schema that says something the API does not
// send, or a status the document does not list, fails here.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { createTenant } from '../../api/services/tenants.ts';
import { contractClient } from '../helpers/contract-client.ts';
import { decideInSandbox } from '../helpers/event-orders.ts';
import { TEST_API_KEY, eventually, startStack } from '../helpers/stack.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

t.test('the typed client against the real API', async (t) => {
  const stack = await startStack(t);
  const { client: veriflow, checked } = await contractClient(stack.apiUrl, TEST_API_KEY);

  /** A persona verification whose session exists (hosted link set). */
  const startPersona = async (reference: string) => {
    const created = await veriflow.POST('/v1/verifications', {
      body: { provider: 'persona', reference },
      params: { header: { prefer: 'wait=15' } },
    });
    if (!created.data) throw new Error(`create answered ${created.response.status}: ${JSON.stringify(created.error)}`);
    return { ...created.data, inquiryId: new URL(created.data.sessionUrl!).searchParams.get('inquiry-id')! };
  };

  t.test('create, idempotent create, read back; errors as typed problems', async (t) => {
    const created = await veriflow.POST('/v1/verifications', {
      body: { provider: 'persona', reference: 'typed-1', metadata: { plan: 'gold' } },
      params: { header: { 'idempotency-key': 'typed-order-1' } },
    });
    t.equal(created.response.status, 202);
    t.match(created.data, { status: 'created', provider: 'persona', reference: 'typed-1', sessionUrl: null });
    const id = created.data!.id;
    const again = await veriflow.POST('/v1/verifications', {
      body: { provider: 'persona', reference: 'typed-1', metadata: { plan: 'gold' } },
      params: { header: { 'idempotency-key': 'typed-order-1' } },
    });
    t.equal(again.data?.id, id, 'the same key and body name the same verification');
    const reused = await veriflow.POST('/v1/verifications', {
      body: { provider: 'persona', reference: 'typed-2' },
      params: { header: { 'idempotency-key': 'typed-order-1' } },
    });
    t.equal(reused.response.status, 422);
    t.match(reused.error, { status: 422, code: 'idempotency_key_reused' });

    const read = await veriflow.GET('/v1/verifications/{id}', { params: { path: { id } } });
    t.equal(read.response.status, 200);
    t.match(read.data, { id, provider: 'persona', reference: 'typed-1', metadata: { plan: 'gold' } });
    t.type(read.data!.history, Array, 'with its history');

    const waited = await startPersona('typed-waited');
    t.match(waited, { sessionUrl: /^http/, status: String });

    const unknownProvider = await veriflow.POST('/v1/verifications', { body: { provider: 'acme' } });
    t.equal(unknownProvider.response.status, 400);
    t.match(unknownProvider.error, { code: 'unknown_provider', detail: /acme/ });
    const missing = await veriflow.GET('/v1/verifications/{id}', { params: { path: { id: UNKNOWN_ID } } });
    t.equal(missing.response.status, 404);
    t.match(missing.error, { code: 'not_found', correlationId: /.+/ });
    const { client: stranger } = await contractClient(stack.apiUrl, 'vf_nobody_has_this_key');
    const unauthorized = await stranger.GET('/v1/verifications/{id}', { params: { path: { id } } });
    t.equal(unauthorized.response.status, 401);
    t.match(unauthorized.error, { code: 'invalid_api_key' });
  });

  t.test('list: filters, the default page size, cursor pages', async (t) => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const created = await veriflow.POST('/v1/verifications', { body: { provider: 'persona', reference: 'typed-list' } });
      ids.push(created.data!.id);
    }
    const filtered = await veriflow.GET('/v1/verifications', { params: { query: { reference: 'typed-list', provider: 'persona' } } });
    t.equal(filtered.response.status, 200);
    t.same(
      filtered.data!.data.map((v) => v.id),
      [...ids].reverse(),
      'newest first, without a limit (it has a default)',
    );
    t.notOk('history' in filtered.data!.data[0]!, 'items carry no history');
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await veriflow.GET('/v1/verifications', { params: { query: { reference: 'typed-list', limit: 2, cursor } } });
      seen.push(...page.data!.data.map((v) => v.id));
      cursor = page.data!.nextCursor ?? undefined;
    } while (cursor);
    t.same(seen, [...ids].reverse(), 'pages of two, no gaps, no repeats');
    const byStatus = await veriflow.GET('/v1/verifications', { params: { query: { status: 'approved', reference: 'typed-list' } } });
    t.same(byStatus.data, { data: [], nextCursor: null });
    const badCursor = await veriflow.GET('/v1/verifications', { params: { query: { cursor: 'garbage' } } });
    t.equal(badCursor.response.status, 400);
    t.match(badCursor.error, { code: 'invalid_cursor' });
  });

  t.test('operator actions: cancel (and 409 once decided), review (always applies)', async (t) => {
    const pending = await startPersona('typed-cancel');
    const canceled = await veriflow.POST('/v1/verifications/{id}/cancel', {
      params: { path: { id: pending.id } },
      body: { reason: 'user_abandoned' },
    });
    t.equal(canceled.response.status, 200);
    t.match(canceled.data, { status: 'canceled', result: { decision: 'canceled', reasons: ['user_abandoned'] } });
    t.match(canceled.data!.history.at(-1), { source: 'operator', to: 'canceled', applied: true });
    const again = await veriflow.POST('/v1/verifications/{id}/cancel', { params: { path: { id: pending.id } }, body: {} });
    t.equal(again.response.status, 409);
    t.match(again.error, { code: 'verification_terminal' });

    const declined = await startPersona('typed-review');
    await decideInSandbox(stack.sandboxUrl, declined.inquiryId, 'declined');
    const decided = await eventually(
      () => veriflow.GET('/v1/verifications/{id}', { params: { path: { id: declined.id } } }),
      (r) => r.data?.status === 'declined',
    );
    t.equal(decided.data?.status, 'declined');
    const reviewed = await veriflow.POST('/v1/verifications/{id}/review', {
      params: { path: { id: declined.id } },
      body: { decision: 'approved', reason: 'document re-checked by hand' },
    });
    t.equal(reviewed.response.status, 200);
    t.match(reviewed.data, { status: 'approved', result: { decision: 'approved', reasons: ['operator_review'] } });
    const invalid = await veriflow.POST('/v1/verifications/{id}/review', {
      params: { path: { id: declined.id } },
      // @ts-expect-error the types allow only approved or declined; the API says why with a 400
      body: { decision: 'maybe', reason: 'x' },
    });
    t.equal(invalid.response.status, 400);
    t.match(invalid.error, { code: 'validation_failed', detail: /decision/ });
  });

  t.test('webhook endpoint and deliveries', async (t) => {
    const receiver = await startWebhookReceiver(t);
    const { apiKey } = await createTenant(stack.database.db, 'typed-webhooks');
    const { client: tenant } = await contractClient(stack.apiUrl, apiKey);
    const none = await tenant.GET('/v1/webhook-endpoint');
    t.equal(none.response.status, 404);
    const put = await tenant.PUT('/v1/webhook-endpoint', { body: { url: receiver.url } });
    t.equal(put.response.status, 201);
    t.match(put.data, { url: receiver.url, secret: /^whsec_/ });
    receiver.secret = put.data!.secret;
    const endpoint = await tenant.GET('/v1/webhook-endpoint');
    t.same(endpoint.data, put.data, 'read back as set');

    const created = await tenant.POST('/v1/verifications', { body: { provider: 'persona', reference: 'typed-hooks' } });
    const verificationId = created.data!.id;
    const delivered = await eventually(
      () => tenant.GET('/v1/webhook-deliveries', { params: { query: { verificationId, status: 'succeeded' } } }),
      (r) => (r.data?.data.length ?? 0) > 0,
    );
    const [first] = delivered.data!.data;
    t.match(first, { verificationId, eventType: 'verification.created', status: 'succeeded', attempts: 1, lastStatusCode: 200 });
    t.ok(
      receiver.delivered().some((r) => r.id === first!.id),
      'the receiver got it, signed, under the delivery id',
    );
    const retried = await tenant.POST('/v1/webhook-deliveries/{id}/retry', { params: { path: { id: first!.id } } });
    t.equal(retried.response.status, 409);
    t.match(retried.error, { code: 'delivery_succeeded' });
    const unknown = await tenant.POST('/v1/webhook-deliveries/{id}/retry', { params: { path: { id: UNKNOWN_ID } } });
    t.equal(unknown.response.status, 404);
  });

  t.test("the README's client example runs against the real API as written", async (t) => {
    const { stdout } = await promisify(execFile)(process.execPath, ['clients/typescript/examples/start-verification.ts'], {
      env: { ...process.env, VERIFLOW_URL: stack.apiUrl, VERIFLOW_API_KEY: TEST_API_KEY },
      timeout: 120_000,
    });
    t.match(stdout, /^send the applicant to http\S+\n[a-z_]+ undecided\n\d+ pending\n$/);
  });

  t.test('every response matched the document', async (t) => {
    t.ok(checked() > 20, `${checked()} responses checked against /openapi.json`);
  });
});
