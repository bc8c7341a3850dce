// A batch of events through the reducer (workflows/reduce-batch.ts): the state and effects are
// those of applying the events one by one, and every stored webhook gets the outcome its row records.
import fc from 'fast-check';
import t from 'tap';
import { assertProperty } from '../helpers/property.ts';
import { VERIFICATION_STATUSES } from '../../domain/verification.ts';
import { reduceBatch, statusAfter, webhookOutcome, type BatchEvent } from '../../workflows/reduce-batch.ts';
import { applyEvent, initialState, type Effect, type ReducerEvent, type ReducerPolicy } from '../../workflows/state.ts';

const T0 = Date.UTC(2026, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString();
const persona: ReducerPolicy = { reverification: false, dedupeWindow: 2000 };

function webhook(id: string, second: number, status: ReducerEvent['status'], extra: Partial<ReducerEvent> = {}): BatchEvent {
  const event: ReducerEvent = {
    source: 'webhook',
    eventId: id,
    occurredAt: iso(T0 + second * 1000),
    status,
    providerStatus: status,
    reasons: [],
    webhookEventId: `row-${id}`,
    ...extra,
  };
  return { event, webhookEventId: `row-${id}` };
}

t.test('each stored webhook is recorded as applied, stale, duplicate or unconfirmed', async (t) => {
  const batch = [
    webhook('evt_1', 2, 'approved'),
    webhook('evt_0', 1, 'pending'),
    webhook('evt_1', 2, 'approved'),
    webhook('evt_2', 3, 'declined', { unconfirmed: true }),
  ];
  const reduced = reduceBatch(initialState(), batch, persona);
  t.same(reduced.webhookOutcomes, [
    { webhookEventId: 'row-evt_1', outcome: 'applied' },
    { webhookEventId: 'row-evt_0', outcome: 'stale' },
    { webhookEventId: 'row-evt_1', outcome: 'duplicate' },
    { webhookEventId: 'row-evt_2', outcome: 'unconfirmed' },
  ]);
  t.equal(reduced.state.status, 'approved');
  t.equal(reduced.state.seq, 3, 'the duplicate records nothing');
  const own: BatchEvent = { event: { ...webhook('x', 4, 'canceled').event, source: 'operator', eventId: null }, webhookEventId: null };
  t.same(reduceBatch(reduced.state, [own], persona).webhookOutcomes, [], 'an event of our own has no webhook row');
});

t.test('a cancel is judged against the status once the events queued before it are applied', async (t) => {
  t.equal(statusAfter(initialState(), [webhook('evt_1', 1, 'approved')], persona), 'approved');
  t.equal(statusAfter(initialState(), [], persona), 'created');
});

t.test('an outcome from a result that recorded no entry is stale', async (t) => {
  t.equal(webhookOutcome({ state: initialState(), effects: [], duplicate: false }), 'stale');
});

// ---- properties -------------------------------------------------------------------------

const arbBatch = fc.array(
  fc.record({
    id: fc.integer({ min: 0, max: 5 }),
    second: fc.integer({ min: 0, max: 10 }),
    status: fc.constantFrom(...VERIFICATION_STATUSES),
    stored: fc.boolean(),
    unconfirmed: fc.boolean(),
  }),
  { maxLength: 12 },
);

t.test('property: a batch ends where applying its events one by one ends, with one outcome per stored webhook', async (t) => {
  assertProperty(
    t,
    fc.property(arbBatch, fc.boolean(), (items, reverification) => {
      const policy = { reverification, dedupeWindow: 2000 };
      const batch = items.map((i) => {
        const b = webhook(`evt_${i.id}`, i.second, i.status, i.unconfirmed ? { unconfirmed: true } : {});
        return i.stored ? b : { ...b, webhookEventId: null };
      });
      let state = initialState();
      const effects: Effect[] = [];
      for (const { event } of batch) {
        const result = applyEvent(state, event, policy);
        state = result.state;
        effects.push(...result.effects);
      }
      const reduced = reduceBatch(initialState(), batch, policy);
      return (
        JSON.stringify(reduced.state) === JSON.stringify(state) &&
        JSON.stringify(reduced.effects) === JSON.stringify(effects) &&
        reduced.webhookOutcomes.length === items.filter((i) => i.stored).length &&
        statusAfter(initialState(), batch, policy) === state.status
      );
    }),
  );
});
