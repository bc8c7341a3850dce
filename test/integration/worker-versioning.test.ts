// Worker Versioning on the real dev server: two builds of the worker on one task queue. A
// verification stays on the build it started on after another build becomes current, and new ones
// start on the new build. (A Stripe account moving over at continue-as-new needs Temporal server
// >= 1.32, newer than the pinned dev server: README "Upgrading".)
import type { WorkflowHandle } from '@temporalio/client';
import t from 'tap';
import { verificationWorkflowId } from '../../workflows/messages.js';
import { eventually, startStack, type Stack } from '../helpers/stack.js';

const BUILD_A = 'build-a';
const BUILD_B = 'build-b';

/** The build of every workflow task the run completed, in order (empty ids: none recorded). */
async function workflowTaskBuilds(handle: WorkflowHandle, runId?: string): Promise<string[]> {
  const run = runId ? handle.client.getHandle(handle.workflowId, runId) : handle;
  const history = await run.fetchHistory();
  return (history.events ?? []).flatMap((e) =>
    e.workflowTaskCompletedEventAttributes ? [e.workflowTaskCompletedEventAttributes.deploymentVersion?.buildId ?? ''] : [],
  );
}

async function pinnedBuild(handle: WorkflowHandle): Promise<string | undefined> {
  const described = await handle.describe();
  return described.raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId ?? undefined;
}

async function create(stack: Stack, provider: 'persona' | 'stripe', reference: string) {
  const created = await stack.request('POST', '/v1/verifications', { provider, reference }, { prefer: 'wait=15' });
  if (created.status !== 201) throw new Error(`create answered ${created.status}`);
  const id = created.body.id as string;
  const view = await stack.request('GET', `/v1/verifications/${id}`);
  return {
    id,
    sessionUrl: created.body.sessionUrl as string,
    providerRef: view.body.providerRef as string,
    handle: stack.temporal.client.workflow.getHandle(verificationWorkflowId(id)),
  };
}

const status = (stack: Stack, id: string, wanted: string) =>
  eventually(
    () => stack.request('GET', `/v1/verifications/${id}`),
    (r) => r.body.status === wanted,
    { timeoutMs: 60_000 },
  );

async function personaDecision(stack: Stack, sessionUrl: string, decision: string): Promise<void> {
  const inquiryId = new URL(sessionUrl).searchParams.get('inquiry-id')!;
  const res = await fetch(`${stack.sandboxUrl}/persona/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ 'inquiry-id': inquiryId, decision }),
  });
  await res.text();
}

t.test('a verification finishes on the build it started on; new ones start on the current build', async (t) => {
  const stack = await startStack(t, { worker: false });
  await stack.startWorker({ buildId: BUILD_A });
  // Created with Prefer: wait, so its session exists: the workflow has run on A.
  const onA = await create(stack, 'persona', 'versioning-a');
  t.equal(await pinnedBuild(onA.handle), BUILD_A, 'started while A was current: pinned to A');

  // Build B rolls out: its worker starts (and becomes current) while A keeps running.
  const rollout = Date.now();
  await stack.startWorker({ buildId: BUILD_B });
  t.comment(`build B polling and current after ${Date.now() - rollout} ms`);
  const onB = await create(stack, 'persona', 'versioning-b');

  await personaDecision(stack, onA.sessionUrl, 'approved');
  await personaDecision(stack, onB.sessionUrl, 'approved');
  await status(stack, onA.id, 'approved');
  await status(stack, onB.id, 'approved');

  t.equal(await pinnedBuild(onA.handle), BUILD_A, 'still pinned to A after B became current');
  t.equal(await pinnedBuild(onB.handle), BUILD_B, 'started after the rollout: pinned to B');
  const tasksA = await workflowTaskBuilds(onA.handle);
  const tasksB = await workflowTaskBuilds(onB.handle);
  t.ok(tasksA.length >= 3, `${tasksA.length} workflow tasks for the verification started on A`);
  t.same(new Set(tasksA), new Set([BUILD_A]), 'every workflow task of it (its decision after the rollout too) ran on A');
  t.same(new Set(tasksB), new Set([BUILD_B]), 'every workflow task of the new one ran on B');
});
