// Continue-as-new with a small threshold (VERIFY_CONTINUE_AS_NEW_AFTER=4): the verification's
// state (status, winning event), its dedupe window and its history numbering survive each new
// run. Fetch-before-apply is off so the events' own statuses and times reach the reducer.
import { asc, eq } from 'drizzle-orm';
import t from 'tap';
import { verificationHistory, webhookEvents } from '../../db/schema/index.ts';
import type { ProviderEvent } from '../../domain/verification.ts';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.ts';
import { getStateQuery, providerEventSignal, verificationWorkflowId } from '../../workflows/messages.ts';
import { personaEventBody, postPersonaWebhook } from '../helpers/persona-webhooks.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';

const CAN_AFTER = 4;

async function sendAndWait(stack: Stack, body: string, eventId: string): Promise<string> {
  const response = await postPersonaWebhook(stack.apiUrl, body);
  if (response.status !== 200 || response.body.duplicate !== false)
    throw new Error(`webhook answered ${response.status} ${JSON.stringify(response.body)}`);
  const [row] = await eventually(
    () => stack.directDb.select({ outcome: webhookEvents.outcome }).from(webhookEvents).where(eq(webhookEvents.providerEventId, eventId)),
    (rows) => rows[0] !== undefined && rows[0].outcome !== 'received' && rows[0].outcome !== 'delivered',
  );
  return row!.outcome;
}

t.test('continue-as-new: state, dedupe window and history survive new runs', async (t) => {
  const stack = await startStack(t, {
    env: { VERIFY_CONTINUE_AS_NEW_AFTER: String(CAN_AFTER) },
    capabilities: { persona: { fetchBeforeApply: false } },
    sandboxWebhookTarget: `http://127.0.0.1:${await pickFreePort()}/lost`,
  });
  const created = await stack.request('POST', '/v1/verifications', { provider: 'persona' }, { prefer: 'wait=15' });
  t.equal(created.status, 201);
  const id: string = created.body.id;
  const inquiryId = new URL(created.body.sessionUrl).searchParams.get('inquiry-id')!;
  const handle = stack.temporal.client.workflow.getHandle(verificationWorkflowId(id));
  const firstRunId = (await handle.describe()).runId;

  const base = Date.now() - 60_000;
  const sent: { eventId: string; body: string }[] = [];
  const outcomes: string[] = [];
  // Ten progress events, each newer than the last: each applies.
  for (let i = 1; i <= 10; i++) {
    const status = i % 2 ? 'pending' : 'completed';
    const event = personaEventBody({
      name: i % 2 ? 'inquiry.started' : 'inquiry.completed',
      createdAt: new Date(base + i * 1000),
      inquiryId,
      referenceId: id,
      status,
    });
    sent.push(event);
    outcomes.push(await sendAndWait(stack, event.body, event.eventId));
  }
  t.same(outcomes, Array(10).fill('applied'), 'ten newer events applied');
  const midRunId = (await handle.describe()).runId;
  t.not(midRunId, firstRunId, 'the workflow continued as new');

  // A second delivery of the very first event (the sweeper racing the intake's own signal), after several new runs.
  const first = sent[0]!;
  const [firstRow] = await stack.directDb.select().from(webhookEvents).where(eq(webhookEvents.providerEventId, first.eventId));
  const redelivered = firstRow!.event as unknown as ProviderEvent;
  // As the dispatcher signals a stored row: its normalised event, as stored.
  await handle.signal(providerEventSignal, redelivered);

  // Older than the winner (event 10), newer than event 1: stale only if the winner's key survived continue-as-new.
  const stale = personaEventBody({
    name: 'inquiry.marked-for-review',
    createdAt: new Date(base + 5_500),
    inquiryId,
    referenceId: id,
    status: 'needs_review',
  });
  const staleOutcome = await sendAndWait(stack, stale.body, stale.eventId);
  t.equal(staleOutcome, 'stale', 'an event older than the carried winner is stale');

  const approved = personaEventBody({
    name: 'inquiry.approved',
    createdAt: new Date(base + 11_000),
    inquiryId,
    referenceId: id,
    status: 'approved',
  });
  t.equal(await sendAndWait(stack, approved.body, approved.eventId), 'applied');

  const view = await eventually(
    () => handle.query(getStateQuery),
    (v) => v.status === 'approved' && v.pendingEvents === 0,
  );
  t.match(
    view,
    { status: 'approved', providerStatus: 'approved', events: 13 },
    '1 api + 10 applied + 1 stale + 1 approved; the duplicate added nothing',
  );

  const history = await stack.directDb
    .select()
    .from(verificationHistory)
    .where(eq(verificationHistory.verificationId, id))
    .orderBy(asc(verificationHistory.seq));
  t.same(
    history.map((h) => h.seq),
    Array.from({ length: 13 }, (_, i) => i + 1),
    'history seq is contiguous across runs',
  );
  t.equal(history.filter((h) => h.eventId === first.eventId).length, 1, 'the redelivered event is recorded once');
  t.match(
    history.find((h) => h.eventId === stale.eventId),
    { applied: false, reason: 'stale', fromStatus: 'in_progress', toStatus: 'in_progress' },
  );
  t.match(history.at(-1), { eventId: approved.eventId, applied: true, toStatus: 'approved' });
  const [firstAfter] = await stack.directDb.select().from(webhookEvents).where(eq(webhookEvents.providerEventId, first.eventId));
  t.equal(firstAfter?.outcome, 'applied', 'the redelivery does not overwrite the first verdict');

  const runs: string[] = [];
  for await (const execution of stack.temporal.client.workflow.list({ query: `WorkflowId = '${verificationWorkflowId(id)}'` }))
    runs.push(execution.runId);
  const finalRunId = (await handle.describe()).runId;
  t.ok(runs.length >= 3, `the workflow ran ${runs.length} runs`);
  const row = await stack.request('GET', `/v1/verifications/${id}`);
  t.equal(row.body.status, 'approved');
  t.comment(
    `sent=13 applied=${history.filter((h) => h.source === 'webhook' && h.applied).length} stale=${history.filter((h) => !h.applied).length} duplicates=1 historyEntries=${history.length} runs=${runs.length} firstRun=${firstRunId.slice(0, 8)} finalRun=${finalRunId.slice(0, 8)} duplicateOutcome=${firstAfter?.outcome}`,
  );
});
