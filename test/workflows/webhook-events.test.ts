// How a provider event signal becomes the reducer event (workflows/webhook-events.ts): a
// duplicate or an event stale on the provider's clock is applied as it is, anything else is
// judged, after a read of the provider where its read API is the truth.
import fc from 'fast-check';
import t from 'tap';
import { assertProperty } from '../helpers/property.ts';
import type { ProviderEvent } from '../../domain/verification.ts';
import { asSentEvent, planWebhook, type WebhookPlan } from '../../workflows/webhook-events.ts';

const T0 = Date.UTC(2026, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString();
const persona = { fetchBeforeApply: true, polling: true };

function providerEvent(id: string, atMs: number, overrides: Partial<ProviderEvent> = {}): ProviderEvent {
  return {
    provider: 'persona',
    providerEventId: id,
    occurredAt: iso(atMs),
    eventType: 'inquiry.approved',
    providerStatus: 'approved',
    status: 'approved',
    reasons: [],
    webhookEventId: `row-${id}`,
    ...overrides,
  };
}

t.test('the event as sent carries the stored row, and a revocation flag only when set', async (t) => {
  t.same(asSentEvent(providerEvent('evt_1', T0)), {
    source: 'webhook',
    eventId: 'evt_1',
    occurredAt: iso(T0),
    status: 'approved',
    providerStatus: 'approved',
    reasons: [],
    webhookEventId: 'row-evt_1',
  });
  t.equal(asSentEvent(providerEvent('evt_2', T0, { revokes: true })).revokes, true);
});

t.test('a duplicate is applied as sent (the reducer dedupes it) and teaches nothing about time', async (t) => {
  const event = providerEvent('evt_1', T0 + 5_000);
  t.same(planWebhook(event, { seenEventIds: ['evt_1'], newestProviderEventAt: T0 }, persona), {
    plan: { kind: 'apply', event: asSentEvent(event) },
    newestProviderEventAt: T0,
  });
});

t.test('older than a provider event already seen: known stale, the provider is not asked', async (t) => {
  const event = providerEvent('evt_2', T0);
  t.same(planWebhook(event, { seenEventIds: [], newestProviderEventAt: T0 + 1 }, persona), {
    plan: { kind: 'apply', event: { ...asSentEvent(event), knownStale: true } },
    newestProviderEventAt: T0 + 1,
  });
  t.same(
    planWebhook(event, { seenEventIds: [], newestProviderEventAt: T0 + 1 }, { fetchBeforeApply: false, polling: true }).plan,
    { kind: 'judge', asSent: asSentEvent(event), readFirst: false },
    'without a read first, the reducer orders it',
  );
});

t.test('the provider is read first only where it is the truth; a revocation is the fact itself', async (t) => {
  const seen = { seenEventIds: [], newestProviderEventAt: 0 };
  const readFirst = (event: ProviderEvent, behaviour = persona) => {
    const { plan } = planWebhook(event, seen, behaviour);
    return plan.kind === 'judge' && plan.readFirst;
  };
  t.ok(readFirst(providerEvent('evt_1', T0)));
  t.notOk(readFirst(providerEvent('evt_1', T0, { revokes: true })));
  t.notOk(readFirst(providerEvent('evt_1', T0), { fetchBeforeApply: true, polling: false }));
  t.notOk(readFirst(providerEvent('evt_1', T0), { fetchBeforeApply: false, polling: true }));
  t.equal(planWebhook(providerEvent('evt_1', T0 + 7), seen, persona).newestProviderEventAt, T0 + 7);
});

// ---- properties -------------------------------------------------------------------------

const arbArrivals = fc.array(
  fc.record({ id: fc.integer({ min: 0, max: 6 }), second: fc.integer({ min: 0, max: 20 }), revokes: fc.boolean() }),
  { maxLength: 15 },
);
const arbBehaviour = fc.record({ fetchBeforeApply: fc.boolean(), polling: fc.boolean() });

t.test(
  'property: over any arrivals, the newest provider time is the max of the new events judged, and only reads-first skip older ones',
  async (t) => {
    assertProperty(
      t,
      fc.property(arbArrivals, arbBehaviour, (arrivals, behaviour) => {
        let seen = { seenEventIds: [] as string[], newestProviderEventAt: 0 };
        for (const a of arrivals) {
          const event = providerEvent(`evt_${a.id}`, T0 + a.second * 1000, a.revokes ? { revokes: true } : {});
          const { plan, newestProviderEventAt }: { plan: WebhookPlan; newestProviderEventAt: number } = planWebhook(event, seen, behaviour);
          const duplicate = seen.seenEventIds.includes(event.providerEventId);
          const readsFirst = behaviour.fetchBeforeApply && behaviour.polling && !a.revokes;
          const older = Date.parse(event.occurredAt) < seen.newestProviderEventAt;
          if (duplicate || (readsFirst && older)) {
            if (plan.kind !== 'apply' || newestProviderEventAt !== seen.newestProviderEventAt) return false;
            if (!duplicate && !plan.event.knownStale) return false;
          } else {
            if (plan.kind !== 'judge' || plan.readFirst !== readsFirst) return false;
            if (newestProviderEventAt !== Math.max(seen.newestProviderEventAt, Date.parse(event.occurredAt))) return false;
          }
          // The workflow remembers ids as the reducer applies them.
          seen = { seenEventIds: [...seen.seenEventIds, event.providerEventId], newestProviderEventAt };
        }
        return true;
      }),
    );
  },
);
