// The worker process is SIGKILLed while verifications are in flight (webhooks arriving,
// activities running); another worker process takes over. Every verification must end with its
// decision, every webhook recorded exactly once, and no provider session created twice.
import { asc, inArray } from 'drizzle-orm';
import t from 'tap';
import { verificationHistory, verifications, webhookEvents } from '../../db/schema/index.ts';
import { inBatches } from '../helpers/persona-webhooks.ts';
import { eventually, startStack, workflowBundle, type Stack } from '../helpers/stack.ts';
import { startWorkerProcess, writeWorkflowBundle } from '../helpers/worker-process.ts';

const BEFORE_KILL = 10;
const DURING_OUTAGE = 5;

async function decide(stack: Stack, inquiryId: string, decision: string): Promise<void> {
  const response = await fetch(`${stack.sandboxUrl}/persona/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ 'inquiry-id': inquiryId, decision }).toString(),
  });
  await response.text();
  if (response.status !== 200) throw new Error(`sandbox answered ${response.status}`);
}

t.test('worker SIGKILLed mid-run: another worker completes every verification, nothing lost or doubled', async (t) => {
  const started = Date.now();
  const stack = await startStack(t, { worker: false });
  const bundlePath = await writeWorkflowBundle(t, (await workflowBundle()).code);
  const first = await startWorkerProcess(t, stack.env, bundlePath);

  const decisionFor = (i: number) => (i % 3 === 0 ? 'declined' : i % 3 === 1 ? 'approved' : 'needs_review');
  const early = await inBatches(
    Array.from({ length: BEFORE_KILL }, (_, i) => i),
    5,
    async (i) => {
      const created = await stack.request(
        'POST',
        '/v1/verifications',
        { provider: 'persona', reference: `early-${i}` },
        { prefer: 'wait=20' },
      );
      if (created.status !== 201) throw new Error(`create answered ${created.status}`);
      return {
        id: created.body.id as string,
        inquiryId: new URL(created.body.sessionUrl).searchParams.get('inquiry-id')!,
        decision: decisionFor(i),
      };
    },
  );

  // Decide all in the sandbox: 2 webhooks each (completed, decision), each fetch-then-record in the workflow.
  await Promise.all(early.map((v) => decide(stack, v.inquiryId, v.decision)));
  const ids = early.map((v) => v.id);
  // Kill once some events have a verdict and others are still in flight.
  const atKill = await eventually(
    () => stack.directDb.select({ outcome: webhookEvents.outcome }).from(webhookEvents).where(inArray(webhookEvents.verificationId, ids)),
    (rows) => rows.some((r) => r.outcome === 'applied' || r.outcome === 'stale'),
    { timeoutMs: 20_000, intervalMs: 10 },
  );
  const killedHow = await first.kill();
  const judgedAtKill = atKill.filter((r) => r.outcome === 'applied' || r.outcome === 'stale').length;
  t.equal(killedHow, 'SIGKILL');

  // While no worker runs: new verifications are accepted (their workflows wait for a worker).
  const late = await inBatches(
    Array.from({ length: DURING_OUTAGE }, (_, i) => i),
    5,
    async (i) => {
      const created = await stack.request('POST', '/v1/verifications', { provider: 'persona', reference: `late-${i}` });
      if (created.status !== 202) throw new Error(`create answered ${created.status}`);
      return { id: created.body.id as string, decision: decisionFor(i + 1) };
    },
  );

  const second = await startWorkerProcess(t, stack.env, bundlePath);
  const allIds = [...ids, ...late.map((v) => v.id)];
  const withSessions = await eventually(
    () =>
      stack.directDb
        .select()
        .from(verifications)
        .where(
          inArray(
            verifications.id,
            late.map((v) => v.id),
          ),
        ),
    (rows) => rows.every((r) => r.sessionUrl !== null),
    { timeoutMs: 45_000, intervalMs: 200 },
  );
  await Promise.all(late.map((v) => decide(stack, withSessions.find((r) => r.id === v.id)!.providerRef!, v.decision)));

  const expected = new Map([...early, ...late].map((v) => [v.id, v.decision]));
  const finalRows = await eventually(
    () => stack.directDb.select().from(verifications).where(inArray(verifications.id, allIds)),
    (rows) => rows.every((r) => r.status === expected.get(r.id)),
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  const events = await eventually(
    () => stack.directDb.select().from(webhookEvents).where(inArray(webhookEvents.verificationId, allIds)),
    (rows) => rows.length === allIds.length * 2 && rows.every((r) => r.outcome === 'applied' || r.outcome === 'stale'),
    { timeoutMs: 20_000, intervalMs: 250 },
  );
  const history = await stack.directDb
    .select()
    .from(verificationHistory)
    .where(inArray(verificationHistory.verificationId, allIds))
    .orderBy(asc(verificationHistory.seq));

  const wrongStatus = finalRows.filter((r) => r.status !== expected.get(r.id)).length;
  let lost = 0;
  let doubled = 0;
  let badShape = 0;
  for (const id of allIds) {
    const mine = history.filter((h) => h.verificationId === id);
    const webhookEntries = mine.filter((h) => h.source === 'webhook');
    const stored = events.filter((e) => e.verificationId === id);
    lost += stored.filter((e) => !webhookEntries.some((h) => h.eventId === e.providerEventId)).length;
    doubled += webhookEntries.length - new Set(webhookEntries.map((h) => h.eventId)).size;
    const contiguous = mine.every((h, i) => h.seq === i + 1);
    if (!contiguous || mine.filter((h) => h.source === 'api').length !== 1 || webhookEntries.length !== 2) badShape += 1;
  }
  const inquiries = new Set(finalRows.map((r) => r.providerRef));
  t.equal(wrongStatus, 0, 'every verification ends with its decision');
  t.equal(lost, 0, 'no webhook lost');
  t.equal(doubled, 0, 'no webhook applied twice');
  t.equal(badShape, 0, 'each history: one session entry, two webhook entries, seq contiguous');
  t.equal(events.length, allIds.length * 2, 'two stored webhooks per verification');
  t.equal(inquiries.size, allIds.length, 'one provider session per verification');
  t.ok(second.child.exitCode === null, 'the second worker is still running');
  const applied = history.filter((h) => h.source === 'webhook' && h.applied).length;
  t.comment(
    `verifications=${allIds.length} webhooks=${events.length} judgedAtKill=${judgedAtKill}/${BEFORE_KILL * 2} applied=${applied} notApplied=${history.filter((h) => h.source === 'webhook' && !h.applied).length} lost=${lost} doubled=${doubled} wrongStatus=${wrongStatus} ms=${Date.now() - started}`,
  );
});
