// Scale-out on one task queue: two API processes (each with its webhook sweeper) and two worker
// processes. Verifications are created through both APIs; each webhook goes to one API and a copy
// to the other; some events are stored without a signal (an API that crashed in between) so both
// sweepers race to deliver them; one worker is SIGKILLed mid-run. Every verification must end
// with its decision, every event recorded exactly once.
import { randomUUID } from 'node:crypto';
import { asc, inArray } from 'drizzle-orm';
import t from 'tap';
import { verificationHistory, verifications, webhookEvents } from '../../db/schema/index.ts';
import { toProviderEvent } from '../../api/services/webhook-intake.ts';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.ts';
import { startApiProcess } from '../helpers/api-process.ts';
import { inBatches, personaEventBody, postPersonaWebhook } from '../helpers/persona-webhooks.ts';
import { eventually, startStack, TEST_API_KEY, workflowBundle } from '../helpers/stack.ts';
import { startWorkerProcess, writeWorkflowBundle } from '../helpers/worker-process.ts';

const VERIFICATIONS = 18;
const decisionFor = (i: number) => (['approved', 'declined', 'needs_review'] as const)[i % 3]!;
const decisionEvent = (decision: string) => (decision === 'needs_review' ? 'inquiry.marked-for-review' : `inquiry.${decision}`);

t.test('two APIs and two workers on one queue, a worker SIGKILLed, both sweepers at once: lost 0, doubled 0', async (t) => {
  const started = Date.now();
  const stack = await startStack(t, { worker: false, sandboxWebhookTarget: `http://127.0.0.1:${await pickFreePort()}/lost` });
  const bundlePath = await writeWorkflowBundle(t, (await workflowBundle()).code);
  const apiEnv = { HOST: '127.0.0.1', SWEEPER_INTERVAL: '300ms', LOG_LEVEL: 'warn' };
  const apis = await Promise.all([0, 1].map(async () => startApiProcess(t, stack.env, { ...apiEnv, PORT: String(await pickFreePort()) })));
  const workers = await Promise.all([0, 1].map(() => startWorkerProcess(t, stack.env, bundlePath)));
  const bootedMs = Date.now() - started;

  const createdAt = Date.now();
  const created = await inBatches(
    Array.from({ length: VERIFICATIONS }, (_, i) => i),
    6,
    async (i) => {
      const response = await fetch(`${apis[i % 2]!.url}/v1/verifications`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json', prefer: 'wait=30' },
        body: JSON.stringify({ provider: 'persona', reference: `scale-${i}` }),
      });
      const body = (await response.json()) as { id: string; sessionUrl: string };
      if (response.status !== 201) throw new Error(`create on API ${i % 2} answered ${response.status}: ${JSON.stringify(body)}`);
      return { id: body.id, inquiryId: new URL(body.sessionUrl).searchParams.get('inquiry-id')!, decision: decisionFor(i) };
    },
  );
  const createMs = Date.now() - createdAt;
  const ids = created.map((v) => v.id);

  // Persona decides each inquiry (its own webhooks are lost); we deliver completed + decision.
  await inBatches(created, 6, async (v) => {
    const decided = await fetch(`${stack.sandboxUrl}/persona/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ 'inquiry-id': v.inquiryId, decision: v.decision }).toString(),
    });
    await decided.text();
    if (decided.status !== 200) throw new Error(`sandbox answered ${decided.status}`);
  });
  const events = created.flatMap((v, i) =>
    (
      [
        ['inquiry.completed', 'completed'],
        [decisionEvent(v.decision), v.decision],
      ] as const
    ).map(([name, status], n) => ({
      verificationId: v.id,
      api: (i + n) % 2,
      ...personaEventBody({ name, createdAt: new Date(Date.now() + n), inquiryId: v.inquiryId, referenceId: v.id, status }),
    })),
  );
  // Every third decision event is stored as an API that crashed before signalling leaves it: only the sweepers deliver it.
  const sweptOnly = events.filter((_, i) => i % 6 === 5);
  await stack.directDb.insert(webhookEvents).values(
    // As intake stores them: the raw payload and the normalised event the sweeper signals.
    sweptOnly.map((e) => {
      const id = randomUUID();
      const event = toProviderEvent('persona', stack.providers.get('persona').parseWebhook(Buffer.from(e.body)), id);
      return {
        id,
        provider: 'persona',
        providerEventId: e.eventId,
        verificationId: e.verificationId,
        payload: JSON.parse(e.body) as unknown,
        event: event ? { ...event } : null,
        signatureValid: true,
        receivedAt: new Date(Date.now() - 5_000),
      };
    }),
  );

  const sendAll = (batch: typeof events) =>
    inBatches(batch, 8, async (e) => {
      const [first, copy] = await Promise.all([
        postPersonaWebhook(apis[e.api]!.url, e.body),
        postPersonaWebhook(apis[1 - e.api]!.url, e.body),
      ]);
      return [first, copy];
    });
  const half = Math.floor(events.length / 2);
  const firstHalf = await sendAll(events.slice(0, half));
  // SIGKILL one worker once some events have a verdict and others are in flight.
  await eventually(
    () => stack.directDb.select({ outcome: webhookEvents.outcome }).from(webhookEvents).where(inArray(webhookEvents.verificationId, ids)),
    (rows) => rows.some((r) => r.outcome === 'applied' || r.outcome === 'stale'),
    { timeoutMs: 30_000, intervalMs: 20 },
  );
  const killedHow = await workers[0]!.kill();
  const killedAt = Date.now();
  const secondHalf = await sendAll(events.slice(half));
  const responses = [...firstHalf, ...secondHalf].flat();
  t.equal(killedHow, 'SIGKILL');
  t.ok(
    responses.every((r) => r.status === 200),
    'every delivery to either API answered 200',
  );
  const accepted = responses.filter((r) => r.body.duplicate === false).length;
  t.equal(accepted, events.length - sweptOnly.length, 'each posted event stored by exactly one API (its copy is a duplicate)');

  const expected = new Map(created.map((v) => [v.id, v.decision]));
  const finalRows = await eventually(
    () => stack.directDb.select().from(verifications).where(inArray(verifications.id, ids)),
    (rows) => rows.every((r) => r.status === expected.get(r.id)),
    { timeoutMs: 90_000, intervalMs: 250 },
  );
  const settledMs = Date.now() - killedAt;
  const stored = await eventually(
    () => stack.directDb.select().from(webhookEvents).where(inArray(webhookEvents.verificationId, ids)),
    (rows) => rows.length === events.length && rows.every((r) => r.outcome === 'applied' || r.outcome === 'stale'),
    { timeoutMs: 30_000, intervalMs: 250 },
  );
  const history = await stack.directDb
    .select()
    .from(verificationHistory)
    .where(inArray(verificationHistory.verificationId, ids))
    .orderBy(asc(verificationHistory.seq));

  const wrong = finalRows.filter((r) => r.status !== expected.get(r.id)).length;
  let lost = 0;
  let doubled = 0;
  for (const id of ids) {
    const recorded = history.filter((h) => h.verificationId === id && h.source === 'webhook').map((h) => h.eventId);
    lost += events.filter((e) => e.verificationId === id && !recorded.includes(e.eventId)).length;
    doubled += recorded.length - new Set(recorded).size;
  }
  const swept = stored.filter((r) => sweptOnly.some((e) => e.eventId === r.providerEventId));
  t.equal(wrong, 0, 'every verification ends with its decision');
  t.equal(lost, 0, 'no event lost');
  t.equal(doubled, 0, 'no event recorded twice');
  t.equal(stored.length, events.length, 'one stored row per event');
  t.ok(
    swept.every((r) => r.deliveredAt !== null),
    'the sweepers delivered every event no API had signalled',
  );
  t.equal(new Set(finalRows.map((r) => r.providerRef)).size, VERIFICATIONS, 'one provider session per verification');
  t.ok(workers[1]!.child.exitCode === null, 'the surviving worker still runs');
  const sweepFailedAttempts = swept.reduce((sum, r) => sum + r.deliveryAttempts, 0);
  t.comment(
    `apis=2 workers=2 (1 SIGKILLed) verifications=${VERIFICATIONS} events=${events.length} posts=${responses.length} accepted=${accepted} duplicates=${responses.length - accepted} sweptOnly=${sweptOnly.length} sweptDelivered=${swept.filter((r) => r.deliveredAt !== null).length} sweepFailedAttempts=${sweepFailedAttempts} ` +
      `applied=${stored.filter((r) => r.outcome === 'applied').length} stale=${stored.filter((r) => r.outcome === 'stale').length} lost=${lost} doubled=${doubled} wrong=${wrong} ` +
      `bootMs=${bootedMs} createMs=${createMs} settledAfterKillMs=${settledMs} ms=${Date.now() - started}`,
  );
});
