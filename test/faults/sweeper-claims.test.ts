// Sweepers of several API replicas share one database: each stored event is signalled by one of
// them only (rows are claimed with FOR UPDATE SKIP LOCKED and a lease). And a sweeper whose
// configuration no longer has the event's provider still delivers it: it re-sends the event
// normalised at intake and needs no provider adapter.
import { defaultPayloadConverter } from '@temporalio/common';
import { eq, inArray, sql } from 'drizzle-orm';
import t from 'tap';
import { deliveryDeps, sweepUndelivered } from '../../api/services/event-delivery.ts';
import { createDatabase } from '../../db/client.ts';
import { webhookEvents } from '../../db/schema/index.ts';
import type { ProviderEvent } from '../../domain/verification.ts';
import { getPayloadCodec } from '../../wiring/codec.ts';
import { parseEnv } from '../../config/env.ts';
import { verificationWorkflowId } from '../../workflows/messages.ts';
import { inBatches, personaEventBody, postPersonaWebhook } from '../helpers/persona-webhooks.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';

const VERIFICATIONS = 3;
const EVENTS_EACH = 10;

/** Signalled provider event ids per workflow, from its Temporal history. */
async function signalledEventIds(stack: Stack, verificationId: string): Promise<string[]> {
  const history = await stack.temporal.client.workflow.getHandle(verificationWorkflowId(verificationId)).fetchHistory();
  const inputs = (history.events ?? []).flatMap((e) =>
    e.workflowExecutionSignaledEventAttributes ? [e.workflowExecutionSignaledEventAttributes.input!.payloads![0]!] : [],
  );
  return (await getPayloadCodec(parseEnv()).decode(inputs)).map(
    (p) => defaultPayloadConverter.fromPayload<ProviderEvent>(p).providerEventId,
  );
}

/** As if the API crashed between storing and signalling: the rows are back in the sweeper's queue. */
async function forgetDelivery(stack: Stack, eventIds: string[]): Promise<void> {
  // First let the intake's own signal finish (it records the delivery after answering 200).
  const signalled = await eventually(
    () =>
      stack.directDb
        .select({ deliveredAt: webhookEvents.deliveredAt })
        .from(webhookEvents)
        .where(inArray(webhookEvents.providerEventId, eventIds)),
    (rows) => rows.length === eventIds.length && rows.every((r) => r.deliveredAt !== null),
  );
  if (signalled.some((r) => r.deliveredAt === null)) throw new Error('the intake did not signal every event within 20 s');
  await stack.directDb
    .update(webhookEvents)
    .set({ outcome: 'received', deliveredAt: null, receivedAt: sql`now() - interval '1 minute'` })
    .where(inArray(webhookEvents.providerEventId, eventIds));
}

t.test('sweeper claims', async (t) => {
  // No worker: signals land in the workflow histories, which is what is counted here.
  const stack = await startStack(t, { worker: false });
  const ids = await inBatches(
    Array.from({ length: VERIFICATIONS }, (_, i) => i),
    VERIFICATIONS,
    async () => {
      const created = await stack.request('POST', '/v1/verifications', { provider: 'persona' });
      if (created.status !== 202) throw new Error(`create answered ${created.status}`);
      return created.body.id as string;
    },
  );

  await t.test('two sweepers over one database signal each stored event once', async (t) => {
    const base = Date.now() - 600_000;
    const events = ids.flatMap((id, v) =>
      Array.from({ length: EVENTS_EACH }, (_, i) => ({
        id,
        ...personaEventBody({
          name: 'inquiry.started',
          status: 'pending',
          createdAt: new Date(base + (v * EVENTS_EACH + i) * 1000),
          inquiryId: `inq_${v}`,
          referenceId: id,
        }),
      })),
    );
    for (const e of events) t.equal((await postPersonaWebhook(stack.apiUrl, e.body)).status, 200);
    await forgetDelivery(
      stack,
      events.map((e) => e.eventId),
    );

    // A second replica: its own connection pool to the same database.
    const replica = await createDatabase({ url: stack.env.DATABASE_URL });
    t.teardown(() => replica.close());
    const sweep = (db: typeof replica.db) =>
      sweepUndelivered(deliveryDeps({ db, temporal: stack.temporal.client, env: stack.env }), { batch: 4 });
    const [a, b] = await Promise.all([sweep(stack.database.db), sweep(replica.db)]);
    t.equal(a.delivered + b.delivered, events.length, `every event delivered by one of them (a=${a.delivered}, b=${b.delivered})`);
    t.ok(a.delivered > 0 && b.delivered > 0, 'both replicas took part');

    const signalCounts: number[] = [];
    for (const id of ids) {
      const signalled = await signalledEventIds(stack, id);
      for (const e of events.filter((e) => e.id === id)) signalCounts.push(signalled.filter((s) => s === e.eventId).length);
    }
    // Once by the intake, once by exactly one sweeper.
    t.equal(signalCounts.filter((n) => n > 2).length, 0, 'no event signalled by both sweepers');
    t.equal(signalCounts.filter((n) => n < 2).length, 0, 'none left out');
    const rows = await stack.directDb
      .select()
      .from(webhookEvents)
      .where(
        inArray(
          webhookEvents.providerEventId,
          events.map((e) => e.eventId),
        ),
      );
    t.ok(
      rows.every((r) => r.deliveredAt !== null && r.deliveryAttempts === 0),
      'all marked delivered, no failed attempt counted',
    );
  });

  await t.test('a provider no longer configured does not stop the sweeper delivering its stored events', async (t) => {
    const event = personaEventBody({
      name: 'inquiry.completed',
      status: 'completed',
      createdAt: new Date(),
      inquiryId: 'inq_removed',
      referenceId: ids[0]!,
    });
    t.equal((await postPersonaWebhook(stack.apiUrl, event.body)).status, 200);
    await forgetDelivery(stack, [event.eventId]);
    // Like an API restarted without Persona credentials: the sweeper is given no provider adapters at all.
    const counts = await sweepUndelivered(deliveryDeps({ db: stack.database.db, temporal: stack.temporal.client, env: stack.env }));
    t.match(counts, { delivered: 1, failed: 0, undeliverable: 0 }, 'the pass completes and delivers it');
    const [row] = await stack.directDb.select().from(webhookEvents).where(eq(webhookEvents.providerEventId, event.eventId));
    t.ok(row?.deliveredAt, 'marked delivered');
    t.equal(
      (await signalledEventIds(stack, ids[0]!)).filter((s) => s === event.eventId).length,
      2,
      'signalled by the intake, then once by the sweeper',
    );
  });
});
