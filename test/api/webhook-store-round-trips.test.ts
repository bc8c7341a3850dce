// Every webhook is stored before it is answered, so the store's Postgres round trips are paid
// per webhook and sit in the ack's latency. Matching the verification happens inside the insert
// (a subquery), not as a lookup before it: one round trip, whatever the webhook names.
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import t from 'tap';
import type { AppDeps } from '../../api/deps.ts';
import { acceptWebhook } from '../../api/services/webhook-intake.ts';
import { createDatabase } from '../../db/client.ts';
import { webhookEvents } from '../../db/schema/index.ts';
import type { NormalizedWebhook } from '../../providers/types.ts';
import { createTestDatabase, seedVerification } from '../helpers/database.ts';
import { countPgRoundTrips } from '../helpers/pg-round-trips.ts';

t.test('storing a webhook', async (t) => {
  const database = await createTestDatabase(t);
  const roundTrips = await countPgRoundTrips(t, database.url);
  const counted = await createDatabase({ url: roundTrips.via(database.url) });
  t.teardown(() => counted.close());
  let next: NormalizedWebhook;
  // Signature and parsing are the adapters' (tested per provider); the store is what is counted.
  const adapter = { verifyWebhook: () => undefined, parseWebhook: () => next };
  const deps = { database: counted, providers: { get: () => adapter }, logger: pino({ level: 'silent' }) } as unknown as AppDeps;
  const { verificationId } = await seedVerification(database.db, { providerRef: 'inq_known' });
  const webhook = (fields: Partial<NormalizedWebhook>): NormalizedWebhook => ({
    providerEventId: `evt_${randomUUID()}`,
    eventType: 'inquiry.completed',
    occurredAt: new Date().toISOString(),
    verificationId: null,
    providerRef: 'inq_known',
    providerStatus: 'completed',
    status: 'approved',
    reasons: [],
    document: null,
    ...fields,
  });
  /** Accepts `parsed` and returns the outcome, the stored row and the round trips it took. */
  const accept = async (parsed: NormalizedWebhook) => {
    next = parsed;
    const before = roundTrips.count;
    const result = await acceptWebhook(deps, 'persona', { rawBody: Buffer.from('{"data":{}}'), headers: {} }, 'corr');
    const used = roundTrips.count - before;
    const [row] = await database.db.select().from(webhookEvents).where(eq(webhookEvents.providerEventId, parsed.providerEventId));
    return { result, row, used };
  };
  // Opens the pool's connection outside the counts.
  await accept(webhook({}));

  await t.test('matched by the provider reference: one round trip, to be signalled', async (t) => {
    const { result, row, used } = await accept(webhook({}));
    t.equal(used, 1, 'one round trip');
    t.equal(result.outcome, 'stored');
    t.match(result.delivery, { verificationId, webhookEventId: row!.id, event: { status: 'approved' } });
    t.match(row, { verificationId, outcome: 'received' });
  });

  await t.test('matched by our id the provider echoes', async (t) => {
    const { result, row } = await accept(webhook({ providerRef: null, verificationId }));
    t.equal(result.outcome, 'stored');
    t.match(row, { verificationId, outcome: 'received' });
  });

  await t.test('for no known verification: stored as unmatched, in one round trip', async (t) => {
    const { result, row, used } = await accept(webhook({ providerRef: 'inq_unknown' }));
    t.equal(used, 1, 'one round trip');
    t.same(result, { outcome: 'unmatched', delivery: null });
    t.match(row, { verificationId: null, outcome: 'unmatched' });
  });

  await t.test('naming nothing: unmatched without a lookup', async (t) => {
    const { result, row } = await accept(webhook({ providerRef: null }));
    t.equal(result.outcome, 'unmatched');
    t.match(row, { verificationId: null, outcome: 'unmatched' });
  });

  await t.test('without a status: ignored, matched or not', async (t) => {
    const { result, row } = await accept(webhook({ status: null, providerStatus: null }));
    t.same(result, { outcome: 'ignored', delivery: null });
    t.match(row, { verificationId, outcome: 'ignored' });
  });

  await t.test('seen before: a duplicate', async (t) => {
    const parsed = webhook({});
    await accept(parsed);
    t.same((await accept(parsed)).result, { outcome: 'duplicate', delivery: null });
  });
});
