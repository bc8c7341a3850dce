// Operator actions are served within seconds whatever the provider is doing: a cancel while the
// session creation is retried (provider down) ends the verification `canceled` and no session is
// opened afterwards; a review while a template step is retried applies at once and stops the steps.
// And a 503 says what happened: an update no worker confirmed in time may still apply.
import t from 'tap';
import { verificationWorkflowId } from '../../workflows/messages.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';

const CREATE_INQUIRY = '^/api/v1/inquiries$';
const THREE_STEP_TEMPLATE = '306';
/** Well under the API's 30 s update deadline: the action must not wait for the provider. */
const PROMPT_MS = 5_000;

async function sandbox(stack: Stack, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${stack.sandboxUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  if (response.status >= 300) throw new Error(`sandbox ${method} ${path} answered ${response.status}`);
  return response.json();
}

async function untilClosed(stack: Stack, id: string): Promise<string> {
  const handle = stack.temporal.client.workflow.getHandle(verificationWorkflowId(id));
  const described = await eventually(
    () => handle.describe(),
    (d) => d.status.name !== 'RUNNING',
    { timeoutMs: 30_000, intervalMs: 250 },
  );
  return described.status.name;
}

t.test('operator actions during a provider outage', async (t) => {
  const stack = await startStack(t, { env: { VERIFY_DECISION_WINDOW: '2s' } });

  t.test('cancel while the session creation is retried: 200 canceled at once, and no session afterwards', async (t) => {
    await sandbox(stack, 'POST', '/_faults', { path: CREATE_INQUIRY, faults: Array.from({ length: 1000 }, () => ({ status: 503 })) });
    t.teardown(() => sandbox(stack, 'DELETE', '/_faults'));
    const created = await stack.request('POST', '/v1/verifications', { provider: 'persona' });
    t.equal(created.status, 202);
    const id: string = created.body.id;
    await eventually(
      () => sandbox(stack, 'GET', '/_faults'),
      (queues: { remaining: unknown[] }[]) => queues[0]!.remaining.length < 1000,
    );

    const started = Date.now();
    const canceled = await stack.request('POST', `/v1/verifications/${id}/cancel`, { reason: 'applicant_left' });
    const tookMs = Date.now() - started;
    t.equal(canceled.status, 200, `cancel answered ${canceled.status} after ${tookMs} ms: ${JSON.stringify(canceled.body)}`);
    t.ok(tookMs < PROMPT_MS, `answered in ${tookMs} ms`);
    t.match(canceled.body, {
      status: 'canceled',
      providerRef: null,
      sessionUrl: null,
      result: { decision: 'canceled', reasons: ['applicant_left'] },
    });

    // The provider recovers: nothing may open a session for a canceled verification any more.
    await sandbox(stack, 'DELETE', '/_faults');
    t.equal(await untilClosed(stack, id), 'COMPLETED', 'the workflow ended normally');
    const after = await stack.request('GET', `/v1/verifications/${id}`);
    t.match(after.body, { status: 'canceled', providerRef: null, sessionUrl: null }, 'no provider session was opened');
    t.same(
      after.body.history.map((h: { source: string; to: string }) => `${h.source}:${h.to}`),
      ['operator:canceled'],
    );
  });

  t.test('review while a template step is retried: 200 at once, and the remaining steps never run', async (t) => {
    await sandbox(stack, 'POST', '/idmeta/admin/chaos', { template_id: THREE_STEP_TEMPLATE, step: 'selfie', failures: 1000 });
    t.teardown(() => sandbox(stack, 'POST', '/idmeta/admin/chaos', { template_id: THREE_STEP_TEMPLATE, step: 'selfie', failures: 0 }));
    const created = await stack.request(
      'POST',
      '/v1/verifications',
      { provider: 'idmeta', templateId: THREE_STEP_TEMPLATE },
      { prefer: 'wait=10' },
    );
    t.equal(created.status, 201);
    const id: string = created.body.id;
    const providerRef = new URL(created.body.sessionUrl).pathname.split('/').at(-1)!;
    await eventually(
      () => stack.request('GET', `/v1/verifications/${id}`),
      (r) => /retrying Selfie/.test(r.body.progress?.message ?? ''),
    );

    const started = Date.now();
    const reviewed = await stack.request('POST', `/v1/verifications/${id}/review`, { decision: 'declined', reason: 'document forged' });
    const tookMs = Date.now() - started;
    t.equal(reviewed.status, 200, `review answered ${reviewed.status} after ${tookMs} ms: ${JSON.stringify(reviewed.body)}`);
    t.ok(tookMs < PROMPT_MS, `answered in ${tookMs} ms`);
    t.match(reviewed.body, { status: 'declined', result: { decision: 'declined', reasons: ['operator_review'] } });

    // The provider recovers: the decided verification's steps are not run on.
    await sandbox(stack, 'POST', '/idmeta/admin/chaos', { verification_id: providerRef, step: 'selfie', failures: 0 });
    t.equal(await untilClosed(stack, id), 'COMPLETED', 'the workflow ended normally');
    const counters = await sandbox(stack, 'GET', `/idmeta/admin/verifications/${providerRef}`);
    const steps = Object.fromEntries(counters.steps.map((s: { key: string; successes: number; calls: number }) => [s.key, s]));
    t.match(steps, { selfie: { successes: 0 }, database_check: { calls: 0 } }, 'no step ran after the review');
    t.equal(counters.finalize_calls, 0, 'the session was not finalized');
    const after = await stack.request('GET', `/v1/verifications/${id}`);
    t.equal(after.body.status, 'declined', 'the operator decision stands');
  });

  t.test('a cancel no worker confirms in time: the 503 says it may still apply, and it does', async (t) => {
    const created = await stack.request('POST', '/v1/verifications', { provider: 'persona' }, { prefer: 'wait=15' });
    t.equal(created.status, 201);
    const worker = stack.worker!;
    worker.shutdown();
    await eventually(
      async () => worker.getState(),
      (state) => state === 'STOPPED',
      { timeoutMs: 15_000 },
    );

    const unconfirmed = await stack.request('POST', `/v1/verifications/${created.body.id}/cancel`, {});
    t.equal(unconfirmed.status, 503);
    t.match(unconfirmed.body, {
      code: 'operator_action_unconfirmed',
      detail: /cancel .* was sent but not confirmed .*may still be applied/,
      action: /GET the verification/,
    });
    t.notMatch(unconfirmed.body.detail, /nothing was created/);

    await stack.startWorker();
    const applied = await eventually(
      () => stack.request('GET', `/v1/verifications/${created.body.id}`),
      (r) => r.body.status === 'canceled',
    );
    t.equal(applied.body.status, 'canceled', 'the cancel applied once a worker ran it');
  });
});
