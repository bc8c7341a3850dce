// Worker Versioning on the real dev server: two builds of the worker on one task queue. A
// verification stays on the build it started on after another build becomes current, and new ones
// start on the new build. (A Stripe account moving over at continue-as-new needs Temporal server
// >= 1.32, newer than the pinned dev server: README "Upgrading".)
import type { WorkflowHandle } from '@temporalio/client';
import t from 'tap';
import { startStack, type Stack } from '../helpers/stack.ts';
import { createVerification, verificationReaches, workflowTaskBuilds } from '../helpers/versioning.ts';

const BUILD_A = 'build-a';
const BUILD_B = 'build-b';

async function pinnedBuild(handle: WorkflowHandle): Promise<string | undefined> {
  const described = await handle.describe();
  return described.raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId ?? undefined;
}

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
  const onA = await createVerification(stack, 'persona', 'versioning-a');
  t.equal(await pinnedBuild(onA.handle), BUILD_A, 'started while A was current: pinned to A');

  // Build B rolls out: its worker starts (and becomes current) while A keeps running.
  const rollout = Date.now();
  await stack.startWorker({ buildId: BUILD_B });
  t.comment(`build B polling and current after ${Date.now() - rollout} ms`);
  const onB = await createVerification(stack, 'persona', 'versioning-b');

  await personaDecision(stack, onA.sessionUrl, 'approved');
  await personaDecision(stack, onB.sessionUrl, 'approved');
  await verificationReaches(stack, onA.id, 'approved');
  await verificationReaches(stack, onB.id, 'approved');

  t.equal(await pinnedBuild(onA.handle), BUILD_A, 'still pinned to A after B became current');
  t.equal(await pinnedBuild(onB.handle), BUILD_B, 'started after the rollout: pinned to B');
  const tasksA = await workflowTaskBuilds(onA.handle);
  const tasksB = await workflowTaskBuilds(onB.handle);
  t.ok(tasksA.length >= 3, `${tasksA.length} workflow tasks for the verification started on A`);
  t.same(new Set(tasksA), new Set([BUILD_A]), 'every workflow task of it (its decision after the rollout too) ran on A');
  t.same(new Set(tasksB), new Set([BUILD_B]), 'every workflow task of the new one ran on B');
});
