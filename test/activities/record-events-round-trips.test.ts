// recordEvents runs once per applied batch of webhooks, so its Postgres round trips are a cost
// every webhook pays (the bench's cost profile). Pinned here: the verification UPDATE also locks
// the row for the outbound webhooks and sends the change notice, instead of a SELECT … FOR UPDATE
// and a `select pg_notify` of their own; what it writes is unchanged.
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import t from 'tap';
import { createRecordActivities, type RecordEventsRequest } from '../../activities/records.ts';
import { createDatabase } from '../../db/client.ts';
import { VERIFICATION_CHANGED_CHANNEL } from '../../db/change-notice.ts';
import { verificationHistory, verifications, webhookDeliveries, webhookEndpoints, webhookEvents } from '../../db/schema/index.ts';
import { createTestDatabase, seedVerification } from '../helpers/database.ts';
import { eventually } from '../helpers/eventually.ts';
import { countPgRoundTrips } from '../helpers/pg-round-trips.ts';

t.test('recording an applied webhook', async (t) => {
  const database = await createTestDatabase(t);
  const roundTrips = await countPgRoundTrips(t, database.url);
  const counted = await createDatabase({ url: roundTrips.via(database.url) });
  t.teardown(() => counted.close());
  const { recordEvents } = createRecordActivities({
    db: counted.db,
    providers: { get: () => ({}) as never },
    logger: pino({ level: 'silent' }),
    outbound: {} as never,
  });
  const notices: string[] = [];
  const unlisten = await database.handle.listen(VERIFICATION_CHANGED_CHANNEL, (id) => notices.push(id));
  t.teardown(unlisten);

  /** A verification with a live session and a stored webhook for it; with `endpoint`, its tenant has a webhook endpoint. */
  const seed = async (endpoint: boolean) => {
    const { tenantId, verificationId: id } = await seedVerification(database.db, { status: 'pending', providerRef: `inq_${randomUUID()}` });
    if (endpoint) await database.db.insert(webhookEndpoints).values({ tenantId, url: 'https://example.com/hook', secret: 'whsec_x' });
    const [event] = await database.db
      .insert(webhookEvents)
      .values({ provider: 'persona', providerEventId: `evt_${id}`, verificationId: id, payload: {}, signatureValid: true })
      .returning({ id: webhookEvents.id });
    const request: RecordEventsRequest = {
      verificationId: id,
      provider: 'persona',
      effects: [
        {
          type: 'record',
          entry: {
            seq: 2,
            at: new Date().toISOString(),
            source: 'webhook',
            eventId: `evt_${id}`,
            from: 'pending',
            to: 'in_progress',
            applied: true,
            reason: null,
          },
        },
        { type: 'statusChanged', from: 'pending', to: 'in_progress' },
      ],
      webhookOutcomes: [{ webhookEventId: event!.id, outcome: 'applied' }],
      snapshot: { status: 'in_progress', providerStatus: 'started', reasons: [] },
    };
    return { id, webhookEventId: event!.id, request };
  };
  /** Round trips of one call (the pool's connections are opened by a first call, not counted). */
  const measured = async (request: RecordEventsRequest) => {
    const before = roundTrips.count;
    const result = await recordEvents(request);
    return { result, roundTrips: roundTrips.count - before };
  };
  await recordEvents((await seed(false)).request);

  await t.test('without an outbound endpoint: six round trips, everything written', async (t) => {
    const { id, webhookEventId, request } = await seed(false);
    const { result, roundTrips } = await measured(request);
    // BEGIN, history, verification (lock, notice), webhook outcome, endpoint lookup, COMMIT.
    t.ok(roundTrips <= 6, `${roundTrips} round trips (at most 6)`);
    t.same(result.webhookDeliveryIds, []);
    const [row] = await database.db.select().from(verifications).where(eq(verifications.id, id));
    t.match(row, { status: 'in_progress', providerStatus: 'started', result: null });
    t.equal(await database.db.$count(verificationHistory, eq(verificationHistory.verificationId, id)), 1);
    const [event] = await database.db.select().from(webhookEvents).where(eq(webhookEvents.id, webhookEventId));
    t.equal(event!.outcome, 'applied');
    t.ok(event!.processedAt);
    await eventually(
      async () => notices,
      (seen) => seen.includes(id),
    );
    t.ok(notices.includes(id), 'the change notice was sent');
  });

  await t.test('with an outbound endpoint: the events carry the updated verification, a retry finds them', async (t) => {
    const { id, request } = await seed(true);
    const { result, roundTrips } = await measured(request);
    // Besides the six: deliveries known, their last seq, the document, the insert.
    t.ok(roundTrips <= 10, `${roundTrips} round trips (at most 10)`);
    t.equal(result.webhookDeliveryIds.length, 1);
    const deliveries = await database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.verificationId, id));
    t.equal(deliveries.length, 1);
    t.match(deliveries[0], { eventType: 'verification.status_changed', seq: 1, payload: { data: { status: 'in_progress' } } });
    t.same((await recordEvents(request)).webhookDeliveryIds, result.webhookDeliveryIds, 'an activity retry returns the same delivery');
    t.equal(await database.db.$count(webhookDeliveries, eq(webhookDeliveries.verificationId, id)), 1);
  });
});
