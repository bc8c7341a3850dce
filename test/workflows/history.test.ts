// The recordEvents payload is the persisted history contract (domain/history.ts), not the
// reducer's effect type: the workflow maps one to the other, keeping the wire shape recorded
// histories already carry and nothing the reducer adds for itself.
import t from 'tap';
import type { RecordedEffect } from '../../domain/history.ts';
import { toRecordedEffects } from '../../workflows/history.ts';
import { applyEvent, initialState, type Effect, type ReducerPolicy } from '../../workflows/state.ts';

const policy: ReducerPolicy = { reverification: false, dedupeWindow: 2000 };

t.test("a reducer batch maps to the same JSON the activity received when it took the reducer's effects", async (t) => {
  const first = applyEvent(
    initialState(),
    {
      source: 'webhook',
      eventId: 'evt_1',
      occurredAt: '2026-01-01T00:00:01.000Z',
      status: 'approved',
      providerStatus: 'approved',
      reasons: [],
      webhookEventId: 'row-1',
    },
    policy,
  );
  const stale = applyEvent(
    first.state,
    {
      source: 'webhook',
      eventId: 'evt_0',
      occurredAt: '2026-01-01T00:00:00.000Z',
      status: 'pending',
      providerStatus: 'pending',
      reasons: [],
      webhookEventId: 'row-0',
    },
    policy,
  );
  const effects = [...first.effects, ...stale.effects];
  t.same(
    effects.map((e) => e.type),
    ['record', 'statusChanged', 'storeDocument', 'record', 'storeDocument'],
  );
  const recorded = toRecordedEffects(effects);
  t.equal(JSON.stringify(recorded), JSON.stringify(effects), 'same fields, same order: the wire shape recorded histories carry');
  t.same(recorded[3], {
    type: 'record',
    entry: {
      seq: 2,
      at: '2026-01-01T00:00:00.000Z',
      source: 'webhook',
      eventId: 'evt_0',
      from: 'approved',
      to: 'approved',
      applied: false,
      reason: 'stale',
    },
  } satisfies RecordedEffect);
});

t.test('what the reducer carries beyond the contract never reaches the activity payload', async (t) => {
  const internal = [
    {
      type: 'record',
      entry: {
        seq: 1,
        at: '2026-01-01T00:00:00.000Z',
        source: 'api',
        eventId: null,
        from: 'created',
        to: 'pending',
        applied: true,
        reason: null,
        winnerKey: 'internal',
      },
      batch: 7,
    },
    { type: 'statusChanged', from: 'created', to: 'pending', cause: 'internal' },
    { type: 'storeDocument', webhookEventId: 'row-1', eventId: 'evt_1', onlyIfMissing: false, payloadSize: 123 },
  ] as unknown as Effect[];
  t.strictSame(JSON.parse(JSON.stringify(toRecordedEffects(internal))), [
    {
      type: 'record',
      entry: {
        seq: 1,
        at: '2026-01-01T00:00:00.000Z',
        source: 'api',
        eventId: null,
        from: 'created',
        to: 'pending',
        applied: true,
        reason: null,
      },
    },
    { type: 'statusChanged', from: 'created', to: 'pending' },
    { type: 'storeDocument', webhookEventId: 'row-1', eventId: 'evt_1', onlyIfMissing: false },
  ]);
});
