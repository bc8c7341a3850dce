// Worker Versioning's upgrade on continue-as-new, on the cluster (Temporal server
// TEMPORAL_SERVER_VERSION; the dev server's 1.29.1 never tells a pinned workflow that another
// build became current). Two builds of the worker on one task queue: a Stripe account opened on
// build A moves to build B at its first event after B became current (it continues as new with
// initialVersioningBehavior AUTO_UPGRADE, its state carried over), while a verification started
// on A stays pinned to A.
import type { WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import t from 'tap';
import { TEMPORAL_SERVER_VERSION } from '../../scripts/lib/temporal-server.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';
import { createVerification, verificationReaches, workflowTaskBuilds } from '../helpers/versioning.ts';

const { VersioningBehavior } = proto.temporal.api.enums.v1;
const BUILD_A = 'build-a';
const BUILD_B = 'build-b';

/** The run's versioning as the server reports it: the build it is on and its behaviour. */
async function versioningOf(handle: WorkflowHandle, runId?: string): Promise<{ runId: string; buildId?: string; behavior?: string }> {
  const run = runId ? handle.client.getHandle(handle.workflowId, runId) : handle;
  const described = await run.describe();
  const info = described.raw.workflowExecutionInfo?.versioningInfo;
  return {
    runId: described.runId,
    buildId: info?.deploymentVersion?.buildId ?? undefined,
    behavior: info?.behavior ? VersioningBehavior[info.behavior] : undefined,
  };
}

async function sandboxForm(stack: Stack, path: string, form: Record<string, string>): Promise<void> {
  const res = await fetch(`${stack.sandboxUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  await res.text();
  if (res.status !== 200) throw new Error(`sandbox ${path} answered ${res.status}`);
}

t.test('a Stripe account moves to the current build at its next continue-as-new; a verification stays on its build', async (t) => {
  if (!process.env.TEMPORAL_TEST_ADDRESS)
    throw new Error(
      `run through \`npm run test:cluster\`: upgrade on continue-as-new needs the cluster's Temporal server ${TEMPORAL_SERVER_VERSION}, not the dev server`,
    );
  const stack = await startStack(t, { worker: false });
  await stack.startWorker({ buildId: BUILD_A });
  const account = await createVerification(stack, 'stripe', 'versioning-account');
  const verification = await createVerification(stack, 'persona', 'versioning-verification');
  const firstRun = await versioningOf(account.handle);
  t.same(firstRun, { runId: firstRun.runId, buildId: BUILD_A, behavior: 'VERSIONING_BEHAVIOR_PINNED' }, 'the account opened on A, pinned');
  t.equal((await versioningOf(verification.handle)).buildId, BUILD_A, 'the verification started on A');

  // Build B rolls out beside A and becomes current (WORKER_VERSION_PROMOTION=always in tests).
  await stack.startWorker({ buildId: BUILD_B });

  // The account's next event wakes it on A: A applies it, then continues as new onto B.
  await sandboxForm(stack, `/stripe/onboarding/${account.providerRef}`, { action: 'submit' });
  await verificationReaches(stack, account.id, 'in_progress');
  const moved = await eventually(
    () => versioningOf(account.handle),
    (v) => v.runId !== firstRun.runId && v.buildId === BUILD_B,
    { timeoutMs: 60_000 },
  );
  t.not(moved.runId, firstRun.runId, 'a new run');
  t.equal(moved.buildId, BUILD_B, 'the new run is on B');
  t.equal(moved.behavior, 'VERSIONING_BEHAVIOR_PINNED', 'and pinned to B (its first task on B declared the workflow pinned)');
  t.equal((await account.handle.describe()).status.name, 'RUNNING', 'still open: long-lived');

  // The decision arrives on B, applied on top of the state A carried over.
  await sandboxForm(stack, `/stripe/onboarding/${account.providerRef}`, { action: 'verify' });
  await verificationReaches(stack, account.id, 'approved');
  t.same(new Set(await workflowTaskBuilds(account.handle, firstRun.runId)), new Set([BUILD_A]), 'the first run ran on A only');
  t.same(new Set(await workflowTaskBuilds(account.handle)), new Set([BUILD_B]), 'the new run, and the decision it applied, on B');
  const history = (await stack.request('GET', `/v1/verifications/${account.id}`)).body.history as { to: string }[];
  t.same(
    history.map((h) => h.to),
    ['pending', 'in_progress', 'approved'],
    'the state carried over: one history across both builds',
  );

  // The verification decided after the rollout: still on A, every workflow task of it on A.
  const inquiryId = new URL(verification.sessionUrl).searchParams.get('inquiry-id')!;
  await sandboxForm(stack, '/persona/verify', { 'inquiry-id': inquiryId, decision: 'approved' });
  await verificationReaches(stack, verification.id, 'approved');
  const stayed = await versioningOf(verification.handle);
  t.same(
    { buildId: stayed.buildId, behavior: stayed.behavior },
    { buildId: BUILD_A, behavior: 'VERSIONING_BEHAVIOR_PINNED' },
    'still pinned to A after B became current',
  );
  t.same(new Set(await workflowTaskBuilds(verification.handle)), new Set([BUILD_A]), 'its decision after the rollout ran on A');
});
