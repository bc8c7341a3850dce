// Operator controls through the API, against the real workflow: cancel (allowed only while
// undecided), review (always applies, recorded as source `operator`), and their error answers.
import { eq } from 'drizzle-orm';
import t from 'tap';
import { webhookEvents } from '../../db/schema/index.ts';
import { verificationWorkflowId } from '../../workflows/messages.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';

const PROBLEM = /^application\/problem\+json/;

async function decide(stack: Stack, inquiryId: string, decision: string): Promise<void> {
  const response = await fetch(`${stack.sandboxUrl}/persona/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ 'inquiry-id': inquiryId, decision }).toString(),
  });
  await response.text();
  if (response.status !== 200) throw new Error(`sandbox answered ${response.status}`);
}

async function create(stack: Stack): Promise<{ id: string; inquiryId: string }> {
  const created = await stack.request('POST', '/v1/verifications', { provider: 'persona' }, { prefer: 'wait=15' });
  if (created.status !== 201) throw new Error(`create answered ${created.status}`);
  return { id: created.body.id, inquiryId: new URL(created.body.sessionUrl).searchParams.get('inquiry-id')! };
}

t.test('operator controls', async (t) => {
  const stack = await startStack(t, { env: { VERIFY_DECISION_WINDOW: '6s' } });
  const counts = { canceled: 0, conflicts: 0, reviews: 0, badRequests: 0 };
  const workers = [stack.worker!];

  t.test('cancel a pending verification, then cancel again', async (t) => {
    const { id } = await create(stack);
    const canceled = await stack.request('POST', `/v1/verifications/${id}/cancel`, { reason: 'user_abandoned' });
    t.equal(canceled.status, 200);
    t.equal(canceled.body.status, 'canceled', 'the response shows the new state');
    t.match(canceled.body.history.at(-1), { source: 'operator', from: 'created', to: 'canceled', applied: true });
    t.match(canceled.body.result, { decision: 'canceled', reasons: ['user_abandoned'] });
    counts.canceled += 1;

    const again = await stack.request('POST', `/v1/verifications/${id}/cancel`, {});
    t.equal(again.status, 409);
    t.match(again.headers['content-type'], PROBLEM);
    t.match(again.body, { status: 409, code: 'verification_terminal', detail: /already decided/ });
    counts.conflicts += 1;

    // Once the decision window has passed, the workflow is closed: still a 409, never a 503.
    const handle = stack.temporal.client.workflow.getHandle(verificationWorkflowId(id));
    const closed = await eventually(
      () => handle.describe(),
      (d) => d.status.name !== 'RUNNING',
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    t.equal(closed.status.name, 'COMPLETED');
    const afterClose = await stack.request('POST', `/v1/verifications/${id}/cancel`, {});
    t.equal(afterClose.status, 409, `cancel after close: ${JSON.stringify(afterClose.body)}`);
    t.match(afterClose.headers['content-type'], PROBLEM);
    t.match(afterClose.body, { status: 409, code: 'verification_closed' });
    const reviewClosed = await stack.request('POST', `/v1/verifications/${id}/review`, { decision: 'approved', reason: 'late' });
    t.equal(reviewClosed.status, 409, `review after close: ${JSON.stringify(reviewClosed.body)}`);
    t.match(reviewClosed.body, { status: 409, code: 'verification_closed' });
    counts.conflicts += 2;
  });

  t.test('review a declined verification: approved, source operator; a newer provider decision does not undo it', async (t) => {
    const { id, inquiryId } = await create(stack);
    await decide(stack, inquiryId, 'declined');
    const declined = await eventually(
      () => stack.request('GET', `/v1/verifications/${id}`),
      (r) => r.body.status === 'declined',
    );
    t.equal(declined.body.status, 'declined');

    const reviewed = await stack.request('POST', `/v1/verifications/${id}/review`, {
      decision: 'approved',
      reason: 'document re-checked by hand',
    });
    t.equal(reviewed.status, 200);
    t.equal(reviewed.body.status, 'approved');
    t.match(reviewed.body.history.at(-1), { source: 'operator', from: 'declined', to: 'approved', applied: true });
    t.match(reviewed.body.result, { decision: 'approved', reasons: ['operator_review'] });
    counts.reviews += 1;

    // The reviewer in Persona's dashboard declines again: the operator's decision still stands.
    await decide(stack, inquiryId, 'declined');
    const after = await eventually(
      () => stack.request('GET', `/v1/verifications/${id}`),
      (r) => r.body.history.length > reviewed.body.history.length,
    );
    t.equal(after.body.status, 'approved');
    t.match(after.body.history.at(-1), { source: 'webhook', applied: false, reason: 'operator_decided' });

    const bad = await stack.request('POST', `/v1/verifications/${id}/review`, { decision: 'maybe', reason: 'x' });
    t.equal(bad.status, 400);
    t.match(bad.headers['content-type'], PROBLEM);
    t.match(bad.body, { status: 400, code: 'validation_failed', detail: /decision/ });
    const noReason = await stack.request('POST', `/v1/verifications/${id}/review`, { decision: 'declined' });
    t.equal(noReason.status, 400);
    t.match(noReason.body, { status: 400, code: 'validation_failed' });
    counts.badRequests += 2;
    const unchanged = await stack.request('GET', `/v1/verifications/${id}`);
    t.equal(unchanged.body.history.length, after.body.history.length, 'rejected reviews recorded nothing');
  });

  t.test('cancel that reaches the workflow together with a decision that arrived first: 409, the decision stands', async (t) => {
    const { id, inquiryId } = await create(stack);
    // No worker for a moment: the decision's webhooks and then the cancel queue up in Temporal,
    // and the next worker gets them in one workflow task, in arrival order.
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    await eventually(
      async () => workers.map((w) => w.getState()),
      (states) => states.every((s) => s === 'STOPPED'),
      { timeoutMs: 15_000 },
    );
    await decide(stack, inquiryId, 'approved');
    await eventually(
      () => stack.directDb.select({ outcome: webhookEvents.outcome }).from(webhookEvents).where(eq(webhookEvents.verificationId, id)),
      (rows) => rows.length === 2 && rows.every((r) => r.outcome === 'delivered'),
    );
    const cancel = stack.request('POST', `/v1/verifications/${id}/cancel`, { reason: 'too_late' });
    await new Promise((r) => setTimeout(r, 1000));
    workers.push(await stack.startWorker());
    const canceled = await cancel;
    t.equal(canceled.status, 409, `cancel after the approval arrived: ${canceled.status} ${canceled.body.status ?? canceled.body.code}`);
    t.match(canceled.body, { code: 'verification_terminal' });
    const done = await eventually(
      () => stack.request('GET', `/v1/verifications/${id}`),
      (r) => r.body.status === 'approved',
    );
    t.equal(done.body.status, 'approved', 'the decision that arrived first stands');
    t.equal(done.body.history.filter((h: { source: string }) => h.source === 'operator').length, 0, 'the rejected cancel recorded nothing');
    counts.conflicts += 1;
  });

  t.test('summary', async (t) => {
    t.comment(
      `canceled=${counts.canceled} conflicts409=${counts.conflicts} reviews=${counts.reviews} badRequests400=${counts.badRequests}`,
    );
    t.pass();
  });
});
