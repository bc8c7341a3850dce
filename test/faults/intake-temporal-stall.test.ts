// Intake is isolated from signalling: while Temporal's frontend stops answering (the API's
// connection to it stalls, nothing is closed), webhooks are still answered 200 and stored, the
// API never has more than WEBHOOK_DISPATCH_CONCURRENCY signals in flight nor two signals of one
// verification at once, and once the stall ends every stored event reaches its workflow: recorded
// once each (nothing lost, nothing doubled), first signalled in the order it was stored.
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { inArray } from 'drizzle-orm';
import t from 'tap';
import { parseEnv } from '../../config/env.ts';
import { verificationHistory, webhookEvents } from '../../db/schema/index.ts';
import type { ProviderEvent } from '../../domain/verification.ts';
import { getPayloadCodec } from '../../wiring/codec.ts';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.ts';
import { verificationWorkflowId } from '../../workflows/messages.ts';
import { inBatches, personaEventBody, postPersonaWebhook } from '../helpers/persona-webhooks.ts';
import { eventually, startStack } from '../helpers/stack.ts';
import { startTemporalViaProxy } from '../helpers/temporal-via-proxy.ts';

const VERIFICATIONS = 4;
const EVENTS_EACH = 5;
const CONCURRENCY = 2;

/** Signal calls the API has in flight, in all and per workflow, with the highest counts seen. */
function signalCounter() {
  const perWorkflow = new Map<string, number>();
  const seen = { inFlight: 0, maxInFlight: 0, maxPerWorkflow: 0, calls: 0 };
  const interceptor: WorkflowClientInterceptor = {
    async signal(input, next) {
      const id = input.workflowExecution.workflowId;
      seen.calls += 1;
      seen.inFlight += 1;
      perWorkflow.set(id, (perWorkflow.get(id) ?? 0) + 1);
      seen.maxInFlight = Math.max(seen.maxInFlight, seen.inFlight);
      seen.maxPerWorkflow = Math.max(seen.maxPerWorkflow, perWorkflow.get(id)!);
      try {
        return await next(input);
      } finally {
        seen.inFlight -= 1;
        perWorkflow.set(id, perWorkflow.get(id)! - 1);
      }
    },
  };
  return { interceptor, seen };
}

t.test('Temporal stalls: webhooks still acknowledged, signals bounded, every event delivered once and in order after', async (t) => {
  const counter = signalCounter();
  // The API reaches Temporal through the proxy; the worker does not (workflows keep running).
  const { temporal, proxy, apiTemporal } = await startTemporalViaProxy(t, { interceptors: [counter.interceptor] });
  const stack = await startStack(t, {
    temporal: apiTemporal,
    startSweeper: true,
    env: { WEBHOOK_DISPATCH_CONCURRENCY: String(CONCURRENCY), SWEEPER_INTERVAL: '500ms' },
    // Only the webhooks this test sends arrive.
    sandboxWebhookTarget: `http://127.0.0.1:${await pickFreePort()}/lost`,
  });

  const created = await inBatches(
    Array.from({ length: VERIFICATIONS }, (_, i) => i),
    VERIFICATIONS,
    async () => {
      const response = await stack.request('POST', '/v1/verifications', { provider: 'persona' }, { prefer: 'wait=15' });
      if (response.status !== 201) throw new Error(`create answered ${response.status}`);
      return { id: response.body.id as string, inquiryId: new URL(response.body.sessionUrl).searchParams.get('inquiry-id')! };
    },
  );
  const base = Date.now() - 60_000;
  const sent = created.flatMap((v, n) =>
    Array.from({ length: EVENTS_EACH }, (_, i) => ({
      verificationId: v.id,
      ...personaEventBody({
        name: 'inquiry.started',
        status: 'pending',
        createdAt: new Date(base + (n * EVENTS_EACH + i) * 1000),
        inquiryId: v.inquiryId,
        referenceId: v.id,
      }),
    })),
  );

  proxy.pause();
  // Each verification's events one after the other (their stored order), the verifications side by side.
  const answers = (
    await inBatches(created, VERIFICATIONS, async (v) => {
      const out = [];
      for (const e of sent.filter((s) => s.verificationId === v.id)) out.push(await postPersonaWebhook(stack.apiUrl, e.body));
      return out;
    })
  ).flat();
  t.ok(
    answers.every((a) => a.status === 200 && a.body.duplicate === false),
    `every webhook answered 200 while Temporal stalls: ${answers.map((a) => a.status).join(',')}`,
  );
  const eventIds = sent.map((s) => s.eventId);
  const stored = await stack.directDb.select().from(webhookEvents).where(inArray(webhookEvents.providerEventId, eventIds));
  t.equal(stored.length, sent.length, 'every event stored');
  // The stall is seen: a signal timed out and its row says why.
  await eventually(
    () => stack.directDb.select().from(webhookEvents).where(inArray(webhookEvents.providerEventId, eventIds)),
    (rows) => rows.some((r) => r.errorMessage !== null),
    { timeoutMs: 30_000, intervalMs: 200 },
  );
  t.ok(
    stored.every((r) => r.deliveredAt === null),
    'none delivered while stalled',
  );
  proxy.resume();

  const rows = await eventually(
    () => stack.directDb.select().from(webhookEvents).where(inArray(webhookEvents.providerEventId, eventIds)),
    (rs) => rs.every((r) => r.deliveredAt !== null && r.outcome !== 'received' && r.outcome !== 'delivered'),
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  t.ok(
    rows.every((r) => r.outcome === 'applied' || r.outcome === 'stale'),
    `every event has the workflow's verdict: ${rows.map((r) => r.outcome).join(',')}`,
  );
  t.ok(counter.seen.maxInFlight <= CONCURRENCY, `at most ${CONCURRENCY} signals in flight (saw ${counter.seen.maxInFlight})`);
  t.equal(counter.seen.maxPerWorkflow, 1, 'never two signals of one verification at once');

  const ids = created.map((v) => v.id);
  const history = await stack.directDb.select().from(verificationHistory).where(inArray(verificationHistory.verificationId, ids));
  const codec = getPayloadCodec(parseEnv());
  for (const id of ids) {
    const mine = sent.filter((s) => s.verificationId === id).map((s) => s.eventId);
    const recorded = history.filter((h) => h.verificationId === id && h.source === 'webhook').map((h) => h.eventId);
    t.same([...recorded].sort(), [...mine].sort(), 'each event recorded exactly once: none lost, none doubled');
    const wfHistory = await temporal.client.workflow.getHandle(verificationWorkflowId(id)).fetchHistory();
    const inputs = (wfHistory.events ?? []).flatMap((e) =>
      e.workflowExecutionSignaledEventAttributes ? [e.workflowExecutionSignaledEventAttributes.input!.payloads![0]!] : [],
    );
    const signalled = (await codec.decode(inputs)).map((p) => defaultPayloadConverter.fromPayload<ProviderEvent>(p).providerEventId);
    // A signal that timed out on our side during the stall may still land: it is sent again, so count first arrivals.
    t.same([...new Set(signalled)], mine, 'first signalled in the order stored');
  }
  t.comment(`signal calls=${counter.seen.calls} maxInFlight=${counter.seen.maxInFlight} maxPerWorkflow=${counter.seen.maxPerWorkflow}`);
});
