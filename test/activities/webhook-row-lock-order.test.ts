// Writers of several stored webhooks at once lock them in id order, so no two of them can wait on
// each other (db/webhook-row-locks.ts). Each case holds the lowest row from outside, lets the
// writer run into it, and checks that the writer holds no other row while it waits: a writer
// that took the highest first would hold it, and a writer taking the rows in the other order
// would then deadlock with it.
import { randomUUID } from 'node:crypto';
import { inArray } from 'drizzle-orm';
import pino from 'pino';
import postgres from 'postgres';
import t from 'tap';
import { createRecordActivities } from '../../activities/records.ts';
import { markDelivered } from '../../api/services/event-delivery.ts';
import { webhookEvents } from '../../db/schema/index.ts';
import { createTestDatabase, seedVerification, type TestDatabase } from '../helpers/database.ts';
import { eventually } from '../helpers/eventually.ts';

/** A verification with two stored webhooks, the higher id stored first (heap order against id order). */
async function seed(database: TestDatabase): Promise<{ verificationId: string; low: string; high: string }> {
  const { verificationId } = await seedVerification(database.db, { status: 'pending', providerRef: 'inq_lock_order' });
  const [low, high] = [randomUUID(), randomUUID()].sort();
  for (const id of [high!, low!]) {
    await database.db
      .insert(webhookEvents)
      .values({ id, provider: 'persona', providerEventId: `evt_${id}`, verificationId, payload: {}, signatureValid: true });
  }
  return { verificationId, low: low!, high: high! };
}

/**
 * Runs `write` while another transaction holds the row `low`; once `write` waits for it, reports
 * whether the row `high` could be locked at that moment, then lets `write` finish.
 */
async function highFreeWhileWaitingForLow(
  database: TestDatabase,
  low: string,
  high: string,
  write: () => Promise<unknown>,
): Promise<boolean> {
  const sql = postgres(database.url, { max: 3, onnotice: () => {} });
  try {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const holder = sql.begin(async (tx) => {
      await tx`select id from webhook_events where id = ${low} for update`;
      holding();
      await released;
    });
    await held;
    const writing = write();
    await eventually(
      async () => (await sql<{ waiting: number }[]>`select count(*)::int as waiting from pg_locks where not granted`)[0]!.waiting,
      (waiting) => waiting > 0,
      { what: 'the writer to wait for the held row' },
    );
    const highFree = await sql
      .begin(async (tx) => {
        await tx`select id from webhook_events where id = ${high} for update nowait`;
        return true;
      })
      .catch((err: { code?: string }) => {
        if (err.code === '55P03') return false;
        throw err;
      });
    release();
    await holder;
    await writing;
    return highFree;
  } finally {
    await sql.end();
  }
}

t.test('recordEvents locks the webhooks it judges in id order, whatever their verdicts', async (t) => {
  const database = await createTestDatabase(t);
  const { recordEvents } = createRecordActivities({
    db: database.db,
    providers: { get: () => ({}) as never },
    logger: pino({ level: 'silent' }),
    outbound: {} as never,
  });
  const { verificationId, low, high } = await seed(database);
  // Verdicts are written one statement per outcome, `applied` first: the higher id first.
  const highFree = await highFreeWhileWaitingForLow(database, low, high, () =>
    recordEvents({
      verificationId,
      provider: 'persona',
      effects: [],
      webhookOutcomes: [
        { webhookEventId: high, outcome: 'applied' },
        { webhookEventId: low, outcome: 'stale' },
      ],
      snapshot: { status: 'pending', providerStatus: null, reasons: [] },
    }),
  );
  t.ok(highFree, 'waiting for the lowest row, it holds no other');
  const rows = await database.db
    .select({ id: webhookEvents.id, outcome: webhookEvents.outcome })
    .from(webhookEvents)
    .where(inArray(webhookEvents.id, [low, high]));
  t.same(Object.fromEntries(rows.map((r) => [r.id, r.outcome])), { [low]: 'stale', [high]: 'applied' }, 'and then writes both verdicts');
});

t.test('the dispatcher marks what it signalled in id order', async (t) => {
  const database = await createTestDatabase(t);
  const { low, high } = await seed(database);
  const highFree = await highFreeWhileWaitingForLow(database, low, high, () => markDelivered(database.db, [high, low]));
  t.ok(highFree, 'waiting for the lowest row, it holds no other');
  const rows = await database.db
    .select({ outcome: webhookEvents.outcome })
    .from(webhookEvents)
    .where(inArray(webhookEvents.id, [low, high]));
  t.same(
    rows.map((r) => r.outcome),
    ['delivered', 'delivered'],
    'and then marks both',
  );
});
