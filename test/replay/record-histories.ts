// Records the workflow histories of representative runs on the real stack and writes them to
// test/fixtures/histories/, where test/replay/replay.test.ts replays them against the current
// workflow code. Re-record after an intentional workflow change (a new build: Worker Versioning
// keeps running workflows on the build they started on, README "Upgrading"):
//   npm run test:record-histories
// or only some scenarios (the others keep the histories older builds recorded):
//   npm run test:record-histories -- idmeta-three-step cancel-during-session-creation
import { writeFile } from 'node:fs/promises';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { Test } from 'tap';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.ts';
import { verificationWorkflowId } from '../../workflows/messages.ts';
import { personaEventBody, postPersonaWebhook } from '../helpers/persona-webhooks.ts';
import { injectFaults, remainingFaults } from '../helpers/sandbox-faults.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';

export const HISTORIES_DIR = new URL('../fixtures/histories/', import.meta.url);

/** Collects teardowns like tap does, so the stack helper runs outside a test. */
function scope(): { t: Test; close(): Promise<void> } {
  const teardowns: (() => unknown)[] = [];
  const t = { teardown: (fn: () => unknown) => teardowns.push(fn) } as unknown as Test;
  return {
    t,
    close: async () => {
      for (const fn of teardowns.reverse()) await fn();
    },
  };
}

const FAST = { VERIFY_DECISION_WINDOW: '1s', VERIFY_FALLBACK_POLL_AFTER: '1h', VERIFY_SESSION_TTL: '1h' };

async function decide(stack: Stack, sessionUrl: string, decision: string): Promise<void> {
  const inquiryId = new URL(sessionUrl).searchParams.get('inquiry-id')!;
  const res = await fetch(`${stack.sandboxUrl}/persona/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ 'inquiry-id': inquiryId, decision }),
  });
  await res.text();
}

async function create(stack: Stack): Promise<{ id: string; sessionUrl: string; handle: WorkflowHandle }> {
  const created = await stack.request('POST', '/v1/verifications', { provider: 'persona' }, { prefer: 'wait=15' });
  if (created.status !== 201) throw new Error(`create answered ${created.status}`);
  return {
    id: created.body.id,
    sessionUrl: created.body.sessionUrl,
    handle: stack.temporal.client.workflow.getHandle(verificationWorkflowId(created.body.id)),
  };
}

const THREE_STEP_TEMPLATE = '306';

/** IDmeta's sandbox fails (or stops failing) a step of the three-step template. */
async function failStep(stack: Stack, step: string, failures: number): Promise<void> {
  const res = await fetch(`${stack.sandboxUrl}/idmeta/admin/chaos`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ template_id: THREE_STEP_TEMPLATE, step, failures }),
  });
  await res.text();
}

async function closedHistory(handle: WorkflowHandle, runId?: string): Promise<string> {
  const run = runId ? handle.client.getHandle(handle.workflowId, runId) : handle;
  await eventually(
    () => run.describe(),
    (d) => d.status.name !== 'RUNNING',
    { timeoutMs: 30_000 },
  );
  return historyToJSON(await run.fetchHistory());
}

type Scenario = (stack: Stack) => Promise<Record<string, string>>;

const scenarios: Record<string, { env?: Record<string, string>; lostWebhooks?: boolean; run: Scenario }> = {
  approve: {
    run: async (stack) => {
      const v = await create(stack);
      await decide(stack, v.sessionUrl, 'approved');
      return { approve: await closedHistory(v.handle) };
    },
  },
  decline: {
    run: async (stack) => {
      const v = await create(stack);
      await decide(stack, v.sessionUrl, 'declined');
      return { decline: await closedHistory(v.handle) };
    },
  },
  review: {
    run: async (stack) => {
      const v = await create(stack);
      await decide(stack, v.sessionUrl, 'needs_review');
      await eventually(
        () => stack.request('GET', `/v1/verifications/${v.id}`),
        (r) => r.body.status === 'needs_review',
      );
      await stack.request('POST', `/v1/verifications/${v.id}/review`, { decision: 'approved', reason: 'documents checked by hand' });
      return { review: await closedHistory(v.handle) };
    },
  },
  cancel: {
    run: async (stack) => {
      const v = await create(stack);
      await stack.request('POST', `/v1/verifications/${v.id}/cancel`, { reason: 'user left' });
      return { cancel: await closedHistory(v.handle) };
    },
  },
  'cancel-during-session-creation': {
    run: async (stack) => {
      const faults = Array.from({ length: 1000 }, () => ({ status: 503 }));
      await injectFaults(stack, '^/api/v1/inquiries$', faults);
      const created = await stack.request('POST', '/v1/verifications', { provider: 'persona' });
      if (created.status !== 202) throw new Error(`create answered ${created.status}`);
      await eventually(
        () => remainingFaults(stack),
        (remaining) => remaining.length < faults.length,
      );
      await stack.request('POST', `/v1/verifications/${created.body.id}/cancel`, { reason: 'applicant_left' });
      await fetch(`${stack.sandboxUrl}/_faults`, { method: 'DELETE' }).then((res) => res.text());
      const handle = stack.temporal.client.workflow.getHandle(verificationWorkflowId(created.body.id));
      return { 'cancel-during-session-creation': await closedHistory(handle) };
    },
  },
  'idmeta-three-step': {
    run: async (stack) => {
      const created = await stack.request('POST', '/v1/verifications', { provider: 'idmeta', templateId: THREE_STEP_TEMPLATE });
      const handle = stack.temporal.client.workflow.getHandle(verificationWorkflowId(created.body.id));
      return { 'idmeta-three-step': await closedHistory(handle) };
    },
  },
  'review-during-template-step': {
    run: async (stack) => {
      await failStep(stack, 'selfie', 1000);
      const created = await stack.request(
        'POST',
        '/v1/verifications',
        { provider: 'idmeta', templateId: THREE_STEP_TEMPLATE },
        { prefer: 'wait=10' },
      );
      await eventually(
        () => stack.request('GET', `/v1/verifications/${created.body.id}`),
        (r) => /retrying Selfie/.test(r.body.progress?.message ?? ''),
      );
      await stack.request('POST', `/v1/verifications/${created.body.id}/review`, { decision: 'declined', reason: 'document forged' });
      await failStep(stack, 'selfie', 0);
      const handle = stack.temporal.client.workflow.getHandle(verificationWorkflowId(created.body.id));
      return { 'review-during-template-step': await closedHistory(handle) };
    },
  },
  expiry: { env: { VERIFY_SESSION_TTL: '2s' }, run: async (stack) => ({ expiry: await closedHistory((await create(stack)).handle) }) },
  'poll-recovery': {
    env: { VERIFY_FALLBACK_POLL_AFTER: '2s', VERIFY_POLL_INTERVAL: '1s' },
    lostWebhooks: true,
    run: async (stack) => {
      const v = await create(stack);
      await decide(stack, v.sessionUrl, 'approved');
      return { 'poll-recovery': await closedHistory(v.handle) };
    },
  },
  'continue-as-new': {
    env: { VERIFY_CONTINUE_AS_NEW_AFTER: '3' },
    run: async (stack) => {
      const v = await create(stack);
      const firstRun = (await v.handle.describe()).runId;
      const inquiryId = new URL(v.sessionUrl).searchParams.get('inquiry-id')!;
      const base = Date.now() - 60_000;
      for (const [i, [name, status]] of [
        ['inquiry.started', 'pending'],
        ['inquiry.completed', 'completed'],
        ['inquiry.marked-for-review', 'needs_review'],
        ['inquiry.approved', 'approved'],
      ].entries()) {
        await postPersonaWebhook(
          stack.apiUrl,
          personaEventBody({ name: name!, status: status!, createdAt: new Date(base + i * 1000), inquiryId, referenceId: v.id }).body,
        );
      }
      await decide(stack, v.sessionUrl, 'approved');
      return {
        'continue-as-new-first-run': await closedHistory(v.handle, firstRun),
        'continue-as-new-last-run': await closedHistory(v.handle),
      };
    },
  },
};

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const unknown = only.filter((name) => !(name in scenarios));
  if (unknown.length > 0) throw new Error(`unknown scenarios ${unknown.join(', ')}; known: ${Object.keys(scenarios).join(', ')}`);
  for (const [name, scenario] of Object.entries(scenarios)) {
    if (only.length > 0 && !only.includes(name)) continue;
    const { t, close } = scope();
    try {
      const stack = await startStack(t, {
        env: { ...FAST, ...scenario.env },
        ...(scenario.lostWebhooks ? { sandboxWebhookTarget: `http://127.0.0.1:${await pickFreePort()}/lost` } : {}),
      });
      for (const [file, json] of Object.entries(await scenario.run(stack))) {
        await writeFile(new URL(`${file}.json`, HISTORIES_DIR), json);
        console.log(`recorded ${file}`);
      }
    } finally {
      await close();
    }
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
