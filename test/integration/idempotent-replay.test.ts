// Repeating a create with the same Idempotency-Key and body is a replay: it answers the same
// verification and never starts a second run of its workflow, even after the first run closed.
// And a start that missed its client deadline but did reach Temporal keeps its row.
import { Client, ServiceError } from '@temporalio/client';
import { count, eq } from 'drizzle-orm';
import { pino } from 'pino';
import t from 'tap';
import { buildApp } from '../../api/app.ts';
import { timersFromEnv } from '../../config/env.ts';
import { verificationHistory, verifications, webhookDeliveries } from '../../db/schema/index.ts';
import { verificationWorkflowId } from '../../workflows/messages.ts';
import { TEST_API_KEY, eventually, startStack, type Stack } from '../helpers/stack.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';

async function decide(stack: Stack, sessionUrl: string, decision: string): Promise<void> {
  const response = await fetch(`${stack.sandboxUrl}/persona/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ 'inquiry-id': new URL(sessionUrl).searchParams.get('inquiry-id')!, decision }).toString(),
  });
  await response.text();
  if (response.status !== 200) throw new Error(`sandbox answered ${response.status}`);
}

async function runsOf(stack: Stack, verificationId: string): Promise<string[]> {
  const runs: string[] = [];
  for await (const execution of stack.temporal.client.workflow.list({ query: `WorkflowId = '${verificationWorkflowId(verificationId)}'` }))
    runs.push(execution.runId);
  return runs;
}

/** The client as it behaves when the start reaches Temporal but the answer misses the client's deadline. */
function startAnswersTooLate(client: Client): Client {
  const workflow = new Proxy(client.workflow, {
    get(target, property) {
      if (property === 'start') {
        return async (...args: Parameters<Client['workflow']['start']>) => {
          await target.start(...args);
          throw new ServiceError('Failed to start Workflow', {
            cause: Object.assign(new Error('4 DEADLINE_EXCEEDED: Deadline exceeded'), { code: 4 }),
          });
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return new Proxy(client, {
    get(target, property) {
      if (property === 'workflow') return workflow;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

t.test('idempotent create', async (t) => {
  const stack = await startStack(t, { env: { VERIFY_DECISION_WINDOW: '2s' } });
  const receiver = await startWebhookReceiver(t);
  const endpoint = await stack.app.inject({
    method: 'PUT',
    url: '/v1/webhook-endpoint',
    headers: { authorization: `Bearer ${TEST_API_KEY}` },
    payload: { url: receiver.url },
  });
  if (endpoint.statusCode !== 201) throw new Error(`PUT /v1/webhook-endpoint answered ${endpoint.statusCode}`);
  receiver.secret = endpoint.json().secret;

  t.test('a replay after the workflow closed starts no second run and sends nothing again', async (t) => {
    const body = { provider: 'persona', reference: 'replay-after-close' };
    const headers = { 'idempotency-key': 'replay-after-close', prefer: 'wait=15' };
    const created = await stack.request('POST', '/v1/verifications', body, headers);
    t.equal(created.status, 201);
    const id: string = created.body.id;
    await decide(stack, created.body.sessionUrl, 'approved');
    const handle = stack.temporal.client.workflow.getHandle(verificationWorkflowId(id));
    const closed = await eventually(
      () => handle.describe(),
      (d) => d.status.name !== 'RUNNING',
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    t.equal(closed.status.name, 'COMPLETED', 'the decision window closed the workflow');
    const deliveries = await eventually(
      () => stack.directDb.select().from(webhookDeliveries).where(eq(webhookDeliveries.verificationId, id)),
      (rows) => rows.length > 0 && rows.every((r) => r.status === 'succeeded'),
    );
    const [historyBefore] = await stack.directDb
      .select({ n: count() })
      .from(verificationHistory)
      .where(eq(verificationHistory.verificationId, id));
    const receivedBefore = receiver.received.filter((w) => w.body.data.id === id).length;

    const replayed = await stack.request('POST', '/v1/verifications', body, headers);
    t.equal(replayed.status, 201, `replay answered ${replayed.status} ${JSON.stringify(replayed.body)}`);
    t.equal(replayed.body.id, id, 'the same verification');
    // The start is synchronous in Temporal: with the closed first run still the latest, nothing runs that could reopen it.
    const latestRun = await handle.describe();
    t.match(latestRun, { runId: closed.runId, status: { name: 'COMPLETED' } }, 'the latest run is still the first, closed one');
    t.equal((await stack.request('GET', `/v1/verifications/${id}`)).body.status, 'approved', 'still approved');
    t.same(await runsOf(stack, id), [closed.runId], 'one run in Temporal');
    const [historyAfter] = await stack.directDb
      .select({ n: count() })
      .from(verificationHistory)
      .where(eq(verificationHistory.verificationId, id));
    t.equal(historyAfter!.n, historyBefore!.n, 'no history row added or lost');
    const deliveriesAfter = await stack.directDb.select().from(webhookDeliveries).where(eq(webhookDeliveries.verificationId, id));
    t.same(deliveriesAfter.map((d) => d.id).sort(), deliveries.map((d) => d.id).sort(), 'no outbound event enqueued again');
    t.equal(receiver.received.filter((w) => w.body.data.id === id).length, receivedBefore, 'no outbound webhook sent again');
  });

  t.test('a start that reached Temporal but missed its deadline keeps its row', async (t) => {
    const app = await buildApp({
      env: stack.env,
      database: stack.database,
      temporal: startAnswersTooLate(stack.temporal.client),
      providers: stack.providers,
      timers: timersFromEnv(stack.env),
      logger: pino({ level: 'silent' }),
      defaultTemplates: { persona: 'itmpl_test' },
    });
    t.teardown(() => app.close());
    const res = await app.inject({
      method: 'POST',
      url: '/v1/verifications',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'idempotency-key': 'late-start' },
      payload: { provider: 'persona', reference: 'late-start' },
    });
    const [row] = await stack.directDb.select().from(verifications).where(eq(verifications.idempotencyKey, 'late-start'));
    t.ok(row, 'the row is still there');
    t.equal(res.statusCode, 202, `the workflow runs, so the create succeeded: ${res.body}`);
    t.equal(res.json().id, row?.id);
    const handle = stack.temporal.client.workflow.getHandle(verificationWorkflowId(row!.id));
    const view = await eventually(
      () => stack.request('GET', `/v1/verifications/${row!.id}`),
      (r) => r.body.sessionUrl !== null,
    );
    t.match(view.body, { status: 'created', providerRef: /^inq_/ }, 'the workflow found its row and opened the session');
    t.equal((await handle.describe()).status.name, 'RUNNING');
  });
});
