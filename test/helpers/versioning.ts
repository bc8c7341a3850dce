// What the Worker Versioning tests (dev server and cluster) read: which build ran a workflow.
import type { WorkflowHandle } from '@temporalio/client';
import { verificationWorkflowId } from '../../workflows/messages.ts';
import { eventually, type Stack } from './stack.ts';

/** The build of every workflow task the run completed, in order (empty ids: none recorded). */
export async function workflowTaskBuilds(handle: WorkflowHandle, runId?: string): Promise<string[]> {
  const run = runId ? handle.client.getHandle(handle.workflowId, runId) : handle;
  const history = await run.fetchHistory();
  return (history.events ?? []).flatMap((e) =>
    e.workflowTaskCompletedEventAttributes ? [e.workflowTaskCompletedEventAttributes.deploymentVersion?.buildId ?? ''] : [],
  );
}

/** A verification created with Prefer: wait, so the session exists: its workflow has run on the build current at creation. */
export async function createVerification(stack: Stack, provider: 'persona' | 'stripe', reference: string) {
  const created = await stack.request('POST', '/v1/verifications', { provider, reference }, { prefer: 'wait=30' });
  if (created.status !== 201) throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
  const id = created.body.id as string;
  const view = await stack.request('GET', `/v1/verifications/${id}`);
  return {
    id,
    sessionUrl: created.body.sessionUrl as string,
    providerRef: view.body.providerRef as string,
    handle: stack.temporal.client.workflow.getHandle(verificationWorkflowId(id)),
  };
}

export const verificationReaches = (stack: Stack, id: string, wanted: string) =>
  eventually(
    () => stack.request('GET', `/v1/verifications/${id}`),
    (r) => r.body.status === wanted,
    { timeoutMs: 60_000 },
  );
