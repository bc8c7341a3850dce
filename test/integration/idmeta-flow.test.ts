// IDmeta-style multi-step templates end to end on the real stack: API -> workflow -> one activity
// per step against the sandbox -> finalize -> Postgres -> GET, with progress, provider outages,
// a worker killed between steps, template sync (100 templates) and verify-by-id.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import proto from '@temporalio/proto';
import t from 'tap';
import { providerTemplates, verifications } from '../../db/schema/index.ts';
import { ensureTemplateSyncSchedule, templateSyncScheduleId } from '../../wiring/schedules.ts';
import { TEST_OPERATOR_TOKEN, eventually, startStack, workflowBundle, type Stack } from '../helpers/stack.ts';
import { startWorkerProcess, writeWorkflowBundle } from '../helpers/worker-process.ts';

/** Template sync is an operator action. */
const operator = { authorization: `Bearer ${TEST_OPERATOR_TOKEN}` };

interface Progress {
  currentStep: number;
  totalSteps: number;
  percentage: number;
  message: string;
}

const TERMINAL = ['approved', 'declined', 'expired', 'canceled', 'error'];
const THREE_STEP_TEMPLATE = '306';

async function sandbox(stack: Stack, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${stack.sandboxUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: response.status, body: await response.json() };
}

/** Polls GET until terminal (or `until`), recording every distinct progress value seen. */
async function watch(stack: Stack, id: string, { timeoutMs = 30_000, until = (body: any) => TERMINAL.includes(body.status) } = {}) {
  const seen: Progress[] = [];
  const final = await eventually(
    async () => {
      const { body } = await stack.request('GET', `/v1/verifications/${id}`);
      const progress = body.progress as Progress | null;
      if (progress && JSON.stringify(progress) !== JSON.stringify(seen.at(-1))) seen.push(progress);
      return body;
    },
    until,
    { timeoutMs, intervalMs: 25 },
  );
  return { final, seen };
}

async function stepCounters(
  stack: Stack,
  providerRef: string,
): Promise<Record<string, { calls: number; failures: number; successes: number; executions: number }>> {
  const { body } = await sandbox(stack, 'GET', `/idmeta/admin/verifications/${providerRef}`);
  return Object.fromEntries(
    body.steps.map((s: { key: string; calls: number; failures: number; successes: number; executions: number }) => [
      s.key,
      { calls: s.calls, failures: s.failures, successes: s.successes, executions: s.executions },
    ]),
  );
}

t.test('idmeta on the real stack', async (t) => {
  const stack = await startStack(t);

  await t.test('templates: empty before a sync; POST /v1/templates/sync fills the cache; GET lists them in provider order', async (t) => {
    const before = await stack.request('GET', '/v1/templates?provider=idmeta');
    t.equal(before.status, 200);
    t.same(before.body, { data: [] });
    const synced = await stack.request('POST', '/v1/templates/sync', undefined, operator);
    t.equal(synced.status, 200);
    t.match(synced.body, { synced: 5, deactivated: 0, durationMs: Number });
    const listed = await stack.request('GET', '/v1/templates?provider=idmeta');
    t.equal(listed.body.data.length, 5);
    t.match(listed.body.data[0], {
      id: /^[0-9a-f-]{36}$/,
      provider: 'idmeta',
      externalId: THREE_STEP_TEMPLATE,
      name: 'First Philippine ID',
      steps: [{ key: 'document' }, { key: 'selfie' }, { key: 'database_check' }],
      active: true,
    });
    t.same(Object.keys(listed.body.data[0]).sort(), ['active', 'externalId', 'id', 'name', 'provider', 'steps']);
    t.ok(
      listed.body.data.some(
        (tpl: { steps: { key: string }[] }) => tpl.steps.length === 1 && tpl.steps[0]?.key === 'philippines/nbiclearance',
      ),
      'an NBI template',
    );
    const unauthorized = await stack.app.inject({ method: 'GET', url: '/v1/templates' });
    t.equal(unauthorized.statusCode, 401);
    const notTemplated = await stack.request('POST', '/v1/templates/sync?provider=persona', undefined, operator);
    t.match(notTemplated, { status: 400, body: { code: 'templates_not_supported' } });
  });

  await t.test('an unknown template is a 400 naming it; an omitted one is the first active template', async (t) => {
    const unknown = await stack.request('POST', '/v1/verifications', { provider: 'idmeta', templateId: '99999' });
    t.equal(unknown.status, 400);
    t.equal(unknown.headers['content-type'], 'application/problem+json; charset=utf-8');
    t.match(unknown.body, {
      status: 400,
      code: 'template_not_found',
      detail: 'Template 99999 not found',
      action: 'GET /v1/templates?provider=idmeta lists the available templates; POST /v1/templates/sync refreshes them.',
    });
    const rows = await stack.database.db.select().from(verifications).where(eq(verifications.provider, 'idmeta'));
    t.equal(rows.length, 0, 'nothing created');

    const defaulted = await stack.request('POST', '/v1/verifications', { provider: 'idmeta', reference: 'default-template' });
    t.equal(defaulted.status, 202);
    const [row] = await stack.database.db.select().from(verifications).where(eq(verifications.id, defaulted.body.id));
    t.equal(row?.templateId, THREE_STEP_TEMPLATE, 'the provider’s first active template');
    const done = await watch(stack, defaulted.body.id);
    t.equal(done.final.status, 'approved');
  });

  await t.test('three steps to approved, progress visible at each step (0/3 -> 1/3 -> 2/3 -> 3/3)', async (t) => {
    // Each step takes 400 ms at the sandbox, so every intermediate state is observable.
    await sandbox(stack, 'POST', '/idmeta/admin/chaos', { template_id: THREE_STEP_TEMPLATE, delay_ms: 400 });
    t.teardown(() => sandbox(stack, 'POST', '/idmeta/admin/chaos', { template_id: THREE_STEP_TEMPLATE, delay_ms: 0 }));
    const started = Date.now();
    const created = await stack.request(
      'POST',
      '/v1/verifications',
      { provider: 'idmeta', templateId: THREE_STEP_TEMPLATE, reference: 'three-steps' },
      { prefer: 'wait=10' },
    );
    t.equal(created.status, 201, 'Prefer: wait returns once the session exists');
    t.match(created.body, { provider: 'idmeta', sessionUrl: /\/idmeta\/verify\/[0-9a-f-]{36}$/ });
    const { final, seen } = await watch(stack, created.body.id);
    const elapsed = Date.now() - started;
    t.comment(
      `three-step verification (400 ms per step at the provider) approved in ${elapsed} ms; progress seen: ${JSON.stringify(seen.map((p) => `${p.currentStep}/${p.totalSteps} ${p.percentage}% ${p.message}`))}`,
    );

    t.equal(final.status, 'approved');
    t.equal(final.providerStatus, 'VERIFIED');
    t.match(final.providerRef, /^[0-9a-f-]{36}$/);
    t.match(final.result, { decision: 'approved', reasons: [], document: { type: 'national_id', number: /^PSN-/, lastName: 'DELA CRUZ' } });
    const steps = seen.map((p) => p.currentStep);
    t.same([...new Set(steps)], [0, 1, 2, 3], 'every step count seen, in order');
    t.ok(seen.every((p) => p.totalSteps === 3));
    t.same([...new Set(seen.map((p) => p.percentage))], [0, 33, 67, 100]);
    t.match(seen[0], { currentStep: 0, message: 'Starting Document verification' });
    t.ok(seen.some((p) => p.currentStep === 1 && p.message === 'Document verification completed'));
    t.ok(seen.some((p) => p.currentStep === 2 && p.message === 'Selfie and liveness completed'));
    t.match(final.progress, {
      currentStep: 3,
      totalSteps: 3,
      percentage: 100,
      message: 'All steps completed; provider decision: VERIFIED',
    });
    t.same(
      Object.keys(final.progress).sort(),
      ['currentStep', 'message', 'percentage', 'totalSteps'],
      'only the contract’s progress fields',
    );
    t.ok(elapsed < 30_000, 'multi-step under 30 s (seed 001)');

    const counters = await stepCounters(stack, final.providerRef);
    for (const key of ['document', 'selfie', 'database_check'])
      t.match(counters[key], { calls: 1, executions: 1, successes: 1 }, `${key} called once`);
    const history = final.history.map((h: { source: string; to: string }) => `${h.source}:${h.to}`);
    t.equal(history[0], 'api:created');
    t.ok(history.includes('webhook:in_progress'), 'step webhooks confirmed through the API');
    // One transition into approved; a later confirmation of the same state may apply approved -> approved.
    t.equal(
      final.history.filter((h: { applied: boolean; from: string; to: string }) => h.applied && h.to === 'approved' && h.from !== 'approved')
        .length,
      1,
    );
  });

  await t.test('three steps without provider delays: end-to-end time', async (t) => {
    const started = Date.now();
    const created = await stack.request('POST', '/v1/verifications', { provider: 'idmeta', templateId: THREE_STEP_TEMPLATE });
    const { final } = await watch(stack, created.body.id);
    const elapsed = Date.now() - started;
    t.comment(`three-step verification end to end (POST -> approved): ${elapsed} ms`);
    t.equal(final.status, 'approved');
    t.ok(elapsed < 30_000, 'under 30 s');
  });

  await t.test('a step failing twice with 503 is retried; progress says why; it then succeeds once', async (t) => {
    await sandbox(stack, 'POST', '/idmeta/admin/chaos', { template_id: THREE_STEP_TEMPLATE, step: 'selfie', failures: 2 });
    t.teardown(() => sandbox(stack, 'POST', '/idmeta/admin/chaos', { template_id: THREE_STEP_TEMPLATE, step: 'selfie', failures: 0 }));
    const created = await stack.request('POST', '/v1/verifications', { provider: 'idmeta', templateId: THREE_STEP_TEMPLATE });
    const { final, seen } = await watch(stack, created.body.id);
    t.comment(`progress seen: ${JSON.stringify(seen.map((p) => `${p.currentStep}/${p.totalSteps} ${p.message}`))}`);
    t.equal(final.status, 'approved');
    const retrying = seen.filter((p) =>
      /^Provider service temporarily unavailable; retrying Selfie and liveness \(attempt \d\)$/.test(p.message),
    );
    t.ok(retrying.length >= 1, 'progress.message showed the retry');
    t.ok(
      retrying.every((p) => p.currentStep === 1),
      'still at step 1 of 3 while retrying',
    );
    const counters = await stepCounters(stack, final.providerRef);
    t.match(counters.selfie, { calls: 3, failures: 2, successes: 1, executions: 1 });
    t.match(counters.document, { calls: 1, executions: 1 }, 'the finished step was not repeated');
  });

  await t.test(
    'Prefer: wait while the provider is down: 503 provider_unavailable; the verification completes once it is back',
    async (t) => {
      await sandbox(stack, 'POST', '/idmeta/admin/outage', { enabled: true });
      t.teardown(() => sandbox(stack, 'POST', '/idmeta/admin/outage', { enabled: false }));
      const down = await stack.request(
        'POST',
        '/v1/verifications',
        { provider: 'idmeta', templateId: THREE_STEP_TEMPLATE },
        { prefer: 'wait=3' },
      );
      t.equal(down.status, 503);
      t.match(down.body, {
        status: 503,
        code: 'provider_unavailable',
        detail: 'Provider service temporarily unavailable',
        action: 'The verification keeps retrying in the background; poll GET /v1/verifications/:id or retry later.',
      });
      const location = String(down.headers.location);
      t.match(location, /\/v1\/verifications\/[0-9a-f-]{36}$/, 'Location names the verification that keeps retrying');
      const id = location.split('/').at(-1)!;
      const during = await stack.request('GET', `/v1/verifications/${id}`);
      t.match(during.body, {
        status: 'created',
        progress: { message: /^Provider service temporarily unavailable; retrying session creation/ },
      });

      await sandbox(stack, 'POST', '/idmeta/admin/outage', { enabled: false });
      const { final } = await watch(stack, id);
      t.equal(final.status, 'approved', 'recovered without the client doing anything');
      t.match(final.sessionUrl, /\/idmeta\/verify\//);
    },
  );

  await t.test('hosted page: a person chooses Review needed, the signed webhook moves the verification to needs_review', async (t) => {
    // Hold the second step so the person finishes the flow on the hosted page first.
    await sandbox(stack, 'POST', '/idmeta/admin/chaos', { template_id: THREE_STEP_TEMPLATE, step: 'selfie', failures: 1000 });
    t.teardown(() => sandbox(stack, 'POST', '/idmeta/admin/chaos', { template_id: THREE_STEP_TEMPLATE, step: 'selfie', failures: 0 }));
    const created = await stack.request(
      'POST',
      '/v1/verifications',
      { provider: 'idmeta', templateId: THREE_STEP_TEMPLATE },
      { prefer: 'wait=10' },
    );
    const page = await fetch(created.body.sessionUrl);
    t.match(await page.text(), /Complete step/);
    await eventually(
      () => stack.request('GET', `/v1/verifications/${created.body.id}`),
      (r) => /retrying Selfie/.test(r.body.progress?.message ?? ''),
    );
    const providerRef = new URL(created.body.sessionUrl).pathname.split('/').at(-1)!;
    await sandbox(stack, 'POST', '/idmeta/admin/chaos', { verification_id: providerRef, step: 'selfie', failures: 0 });
    const decided = await fetch(created.body.sessionUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ action: 'decide', outcome: 'review_needed' }).toString(),
    });
    t.equal(decided.status, 200);
    const { final } = await watch(stack, created.body.id, {
      until: (body) => body.status === 'needs_review' && body.progress?.currentStep === 3,
    });
    t.equal(final.status, 'needs_review');
    t.equal(final.providerStatus, 'REVIEW_NEEDED');
    const counters = await stepCounters(stack, providerRef);
    t.match(counters.selfie, { executions: 1 }, 'the step the person completed is not run again by the workflow');
    t.match(counters.database_check, { executions: 1 });
  });

  await t.test('verify-by-id: NBI clearance answered within 15 s with the result; the PII stays out of workflow history', async (t) => {
    const body = {
      verificationType: 'philippines_nbi_clearance',
      idNumber: 'NBI-123456789',
      userData: { firstName: 'Juan', lastName: 'Dela Cruz', dateOfBirth: '1990-01-01' },
    };
    const started = Date.now();
    const res = await stack.request('POST', '/v1/verifications/verify-by-id', body);
    t.comment(`verify-by-id (NBI) answered ${res.status} in ${Date.now() - started} ms`);
    t.equal(res.status, 201);
    t.match(res.body, {
      provider: 'idmeta',
      status: 'approved',
      providerStatus: 'VERIFIED',
      progress: { currentStep: 1, totalSteps: 1, percentage: 100 },
      result: {
        decision: 'approved',
        document: {
          type: 'nbi_clearance',
          idClass: 'philippines/nbiclearance',
          number: 'NBI-123456789',
          firstName: 'JUAN',
          lastName: 'DELA CRUZ',
          issuingAuthority: 'NBI',
          country: 'PH',
        },
      },
      metadata: { verificationType: 'philippines_nbi_clearance' },
    });
    t.match(res.headers.location, res.body.id);
    const [row] = await stack.database.db.select().from(verifications).where(eq(verifications.id, res.body.id));
    const [nbiTemplate] = await stack.database.db
      .select()
      .from(providerTemplates)
      .where(eq(providerTemplates.externalId, row!.templateId!));
    t.same(
      nbiTemplate?.steps.map((s) => s.key),
      ['philippines/nbiclearance'],
      'a template whose only step is the ID check',
    );
    t.same(
      row?.applicant,
      { firstName: 'Juan', lastName: 'Dela Cruz', dateOfBirth: '1990-01-01', idNumber: 'NBI-123456789' },
      'kept in the row for the step activity',
    );

    const history = JSON.stringify(await stack.temporal.client.workflow.getHandle(`verification-${res.body.id}`).fetchHistory());
    for (const pii of ['NBI-123456789', '1990-01-01', 'Dela Cruz']) t.notOk(history.includes(pii), `${pii} is not in workflow history`);

    const notFound = await stack.request('POST', '/v1/verifications/verify-by-id', {
      ...body,
      verificationType: 'philippines_prc',
      idNumber: 'PRC-NOTFOUND-1',
    });
    t.equal(notFound.status, 201);
    t.match(notFound.body, { status: 'declined', providerStatus: 'REJECTED', result: { decision: 'declined' } }, 'no PRC record: rejected');
    const expired = await stack.request('POST', '/v1/verifications/verify-by-id', { ...body, idNumber: 'NBI-EXPIRED-2' });
    t.match(
      expired,
      { status: 201, body: { status: 'needs_review', providerStatus: 'REVIEW_NEEDED', result: null } },
      'an expired clearance needs a person',
    );

    const invalid = await stack.request('POST', '/v1/verifications/verify-by-id', { ...body, verificationType: 'passport' });
    t.match(invalid, { status: 400, body: { code: 'validation_failed' } });
    const noDob = await stack.request('POST', '/v1/verifications/verify-by-id', {
      ...body,
      userData: { firstName: 'Juan', lastName: 'Dela Cruz' },
    });
    t.match(noDob, { status: 400, body: { code: 'validation_failed', detail: /dateOfBirth/ } });
  });

  await t.test('template sync: 100 templates, then 95 of them gone (deactivated); the CLI prints progress and counts', async (t) => {
    t.teardown(() => sandbox(stack, 'POST', '/idmeta/admin/templates', { count: 5 }));
    await sandbox(stack, 'POST', '/idmeta/admin/templates', { count: 100 });
    const started = Date.now();
    const synced = await stack.request('POST', '/v1/templates/sync?provider=idmeta', undefined, operator);
    t.comment(
      `POST /v1/templates/sync with 100 templates (2 pages of 50): durationMs=${synced.body.durationMs}, round trip ${Date.now() - started} ms`,
    );
    t.match(synced, { status: 200, body: { synced: 100, deactivated: 0 } });
    const all = await stack.request('GET', '/v1/templates?provider=idmeta&active=true');
    t.equal(all.body.data.length, 100);
    t.equal(new Set(all.body.data.map((tpl: { externalId: string }) => tpl.externalId)).size, 100, 'no duplicates across pages');
    t.same(
      all.body.data.slice(0, 3).map((tpl: { externalId: string }) => tpl.externalId),
      ['306', '170', '171'],
      'provider order kept',
    );

    await sandbox(stack, 'POST', '/idmeta/admin/templates', { count: 5 });
    const shrunk = await stack.request('POST', '/v1/templates/sync', undefined, operator);
    t.match(shrunk.body, { synced: 5, deactivated: 95 });
    const active = await stack.request('GET', '/v1/templates?provider=idmeta&active=true');
    t.equal(active.body.data.length, 5);
    const inactive = await stack.request('GET', '/v1/templates?provider=idmeta&active=false');
    t.equal(inactive.body.data.length, 95, 'kept, inactive');
    const gone = await stack.request('POST', '/v1/verifications', { provider: 'idmeta', templateId: '1050' });
    t.match(
      gone,
      { status: 400, body: { code: 'template_not_found', detail: 'Template 1050 not found' } },
      'an inactive template cannot start a verification',
    );

    await sandbox(stack, 'POST', '/idmeta/admin/templates', { count: 100 });
    const cliStarted = Date.now();
    const cli = await runCli(stack);
    t.comment(
      `npm run provider:sync-templates (100 templates) took ${Date.now() - cliStarted} ms including Node's start-up; said:\n${cli.stdout.trim()}`,
    );
    t.equal(cli.code, 0, cli.stderr);
    t.match(cli.stdout, /page 1\/2: 50\/100 templates/);
    t.match(cli.stdout, /page 2\/2: 100\/100 templates/);
    t.match(cli.stdout, /✓ idmeta: 100 templates synced, 0 deactivated in \d+ ms/);
    const after = await stack.request('GET', '/v1/templates?provider=idmeta&active=true');
    t.equal(after.body.data.length, 100, 'the 95 are active again');
  });

  await t.test('the 24-hourly schedule: created once (and run at once), updated afterwards', async (t) => {
    await sandbox(stack, 'POST', '/idmeta/admin/templates', { count: 7 });
    const taskQueue = stack.env.TEMPORAL_TASK_QUEUE;
    t.equal(await ensureTemplateSyncSchedule(stack.temporal.client, taskQueue, { providers: ['idmeta'] }), 'created');
    const handle = stack.temporal.client.schedule.getHandle(templateSyncScheduleId(taskQueue));
    t.teardown(() => handle.delete());
    const synced = await eventually(
      () => stack.request('GET', '/v1/templates?provider=idmeta&active=true'),
      (r) => r.body.data.length === 7,
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    t.equal(synced.body.data.length, 7, 'the templateSync workflow ran its activity right away');
    t.equal(await ensureTemplateSyncSchedule(stack.temporal.client, taskQueue, { providers: ['idmeta'] }), 'updated', 'idempotent');
    const described = await handle.describe();
    t.match(described.spec.intervals, [{ every: 24 * 60 * 60 * 1000 }]);
    t.match(described.action, { type: 'startWorkflow', workflowType: 'templateSync', taskQueue, args: [{ providers: ['idmeta'] }] });
    t.equal(
      await ensureTemplateSyncSchedule(stack.temporal.client, taskQueue, { providers: [] }),
      'skipped',
      'no template providers: no schedule',
    );
  });
});

t.test(
  'idmeta: the worker is killed during a step; a new worker retries it within the heartbeat timeout, without repeating finished steps',
  async (t) => {
    const stack = await startStack(t, { worker: false });
    const bundlePath = await writeWorkflowBundle(t, (await workflowBundle()).code);
    t.match((await stack.request('POST', '/v1/templates/sync', undefined, operator)).body, { synced: 5 });
    // Hold the second step: it fails with 503 until released.
    await sandbox(stack, 'POST', '/idmeta/admin/chaos', { template_id: THREE_STEP_TEMPLATE, step: 'selfie', failures: 1000 });

    const first = await startWorkerProcess(t, stack.env, bundlePath);
    const created = await stack.request('POST', '/v1/verifications', { provider: 'idmeta', templateId: THREE_STEP_TEMPLATE });
    t.equal(created.status, 202);
    const id: string = created.body.id;
    const between = await eventually(
      () => stack.request('GET', `/v1/verifications/${id}`),
      (r) => /retrying Selfie/.test(r.body.progress?.message ?? ''),
      { timeoutMs: 30_000, intervalMs: 20 },
    );
    t.match(between.body.progress, { currentStep: 1, totalSteps: 3 }, 'step 1 done, step 2 failing');
    const providerRef: string = between.body.providerRef;

    // The next attempt of step 2 hangs at the provider longer than the heartbeat timeout (5 s) and
    // shorter than the step's start-to-close (30 s): the worker dies holding it.
    const callsBefore = (await stepCounters(stack, providerRef)).selfie!.calls;
    await sandbox(stack, 'POST', '/idmeta/admin/chaos', { verification_id: providerRef, step: 'selfie', failures: 0, delay_ms: 8000 });
    await eventually(
      () => stepCounters(stack, providerRef),
      (counters) => counters.selfie!.calls > callsBefore,
      { timeoutMs: 30_000, intervalMs: 20, what: 'the next attempt of step 2 to reach the provider' },
    );
    t.equal(await first.kill(), 'SIGKILL');
    await sandbox(stack, 'POST', '/idmeta/admin/chaos', { verification_id: providerRef, delay_ms: 0 });
    const killedAt = Date.now();
    await startWorkerProcess(t, stack.env, bundlePath);
    t.comment(`second worker ready ${Date.now() - killedAt} ms after the kill`);
    const { final } = await watch(stack, id, { timeoutMs: 90_000 });
    t.comment(`resumed and approved ${Date.now() - killedAt} ms after the kill (includes the new worker's start-up)`);
    t.equal(final.status, 'approved');
    t.match(final.progress, { currentStep: 3, totalSteps: 3 });

    // The lost attempt ended by the heartbeat timeout, not by waiting out the step's start-to-close.
    const events = (await stack.temporal.client.workflow.getHandle(`verification-${id}`).fetchHistory()).events ?? [];
    const timedOut = events
      .map((e) => e.activityTaskStartedEventAttributes?.lastFailure?.timeoutFailureInfo?.timeoutType)
      .filter((type) => type !== undefined && type !== null);
    t.same(timedOut, [proto.temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT], 'one lost attempt, ended by its heartbeat timeout');

    const counters = await stepCounters(stack, providerRef);
    t.comment(`sandbox counters: ${JSON.stringify(counters)}`);
    t.match(counters.document, { calls: 1, successes: 1, executions: 1 }, 'the finished step was not called again after the restart');
    t.match(counters.selfie, { executions: 1 }, 'the interrupted step ran once at the provider');
    t.ok(counters.selfie!.calls >= callsBefore + 2, 'the lost call and its retry');
    t.match(counters.database_check, { calls: 1, successes: 1, executions: 1 });
  },
);

/** `npm run provider:sync-templates` against the stack's database and sandbox. */
function runCli(stack: Stack): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = fileURLToPath(new URL('../../scripts/sync-templates.ts', import.meta.url));
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(stack.env)) if (value !== undefined) env[key] = String(value);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
