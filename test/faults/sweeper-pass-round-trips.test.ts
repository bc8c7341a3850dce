// A dispatcher pass runs for nearly every stored webhook at a steady rate (each store nudges one),
// so its round trips are a cost every webhook pays. A batch shorter than the claim limit was
// every row due, so the pass ends without a claim that would find nothing; a full batch still
// claims again until the backlog is drained. Rows stored before migration 0003 (no normalised
// event) are set aside without Temporal, which lets the pass be counted on Postgres alone.
import { randomUUID } from 'node:crypto';
import { eq, inArray } from 'drizzle-orm';
import t from 'tap';
import { sweepUndelivered, type DeliveryDeps } from '../../api/services/event-delivery.ts';
import { createDatabase } from '../../db/client.ts';
import { webhookEvents } from '../../db/schema/index.ts';
import { createTestDatabase, seedVerification } from '../helpers/database.ts';
import { countPgRoundTrips } from '../helpers/pg-round-trips.ts';

t.test('a dispatcher pass', async (t) => {
  const database = await createTestDatabase(t);
  const roundTrips = await countPgRoundTrips(t, database.url);
  const counted = await createDatabase({ url: roundTrips.via(database.url) });
  t.teardown(() => counted.close());
  const deps = (batch: number): DeliveryDeps => ({
    db: counted.db,
    // Never called: rows without a normalised event are not signalled.
    temporal: {} as never,
    maxAttempts: 5,
    retryAfterMs: 60_000,
    concurrency: 4,
    batch,
  });
  const { verificationId } = await seedVerification(database.db);
  const storeRows = async (count: number) => {
    const rows = await database.db
      .insert(webhookEvents)
      .values(
        Array.from({ length: count }, () => ({
          provider: 'persona',
          providerEventId: `evt_${randomUUID()}`,
          verificationId,
          payload: {},
          signatureValid: true,
        })),
      )
      .returning({ id: webhookEvents.id });
    return rows.map((r) => r.id);
  };
  const outcomes = async (ids: string[]) =>
    (await database.db.select({ outcome: webhookEvents.outcome }).from(webhookEvents).where(inArray(webhookEvents.id, ids))).map(
      (r) => r.outcome,
    );
  // Opens the pool's connection outside the counts.
  await counted.db.select().from(webhookEvents).where(eq(webhookEvents.id, randomUUID()));

  await t.test('a short batch: one claim, then one update per row', async (t) => {
    const ids = await storeRows(2);
    const before = roundTrips.count;
    const counts = await sweepUndelivered(deps(10), { olderThanMs: 0 });
    const used = roundTrips.count - before;
    t.equal(counts.undeliverable, 2);
    t.same(await outcomes(ids), ['undeliverable', 'undeliverable']);
    t.ok(used <= 3, `${used} round trips (at most 3: the claim and one per row)`);
  });

  await t.test('full batches: claimed again until none is left', async (t) => {
    const ids = await storeRows(3);
    const counts = await sweepUndelivered(deps(1), { olderThanMs: 0 });
    t.equal(counts.undeliverable, 3);
    t.same(await outcomes(ids), ['undeliverable', 'undeliverable', 'undeliverable']);
  });
});
