// How a provider event signal becomes the event the reducer sees: a duplicate or an event stale
// on the provider's own clock is applied as it is; otherwise the provider is read first where
// its read API is the truth (the webhook is a nudge), and `judgeWebhook` weighs body against read.
// Pure: the workflow makes the read this plan asks for.
import type { ProviderEvent } from '../domain/verification.ts';
import type { ProviderBehaviour } from '../domain/provider-capabilities.ts';
import type { ReducerEvent } from './state.ts';

/** The webhook as the provider sent it. */
export function asSentEvent(event: ProviderEvent): ReducerEvent {
  return {
    source: 'webhook',
    eventId: event.providerEventId,
    occurredAt: event.occurredAt,
    status: event.status,
    providerStatus: event.providerStatus,
    reasons: event.reasons,
    webhookEventId: event.webhookEventId,
    ...(event.revokes ? { revokes: true } : {}),
  };
}

export type WebhookPlan =
  /** Nothing to ask anyone: apply this event as it is (the reducer records it as it deserves). */
  | { kind: 'apply'; event: ReducerEvent }
  /** Judge the body (`judgeWebhook`), after reading the provider when `readFirst`. */
  | { kind: 'judge'; asSent: ReducerEvent; readFirst: boolean };

export interface WebhookSeen {
  seenEventIds: readonly string[];
  /** Newest provider event time seen, epoch ms on the provider's clock. */
  newestProviderEventAt: number;
}

/** What to do with a provider event, and the newest provider event time once it is seen. */
export function planWebhook(
  event: ProviderEvent,
  seen: WebhookSeen,
  behaviour: Pick<ProviderBehaviour, 'fetchBeforeApply' | 'polling'>,
): { plan: WebhookPlan; newestProviderEventAt: number } {
  const asSent = asSentEvent(event);
  const unchanged = seen.newestProviderEventAt;
  if (seen.seenEventIds.includes(event.providerEventId))
    return { plan: { kind: 'apply', event: asSent }, newestProviderEventAt: unchanged };
  // A revocation is a fact no read shows; otherwise the webhook is a nudge: apply what the
  // provider says now, so arrival order cannot matter.
  const readFirst = behaviour.fetchBeforeApply && behaviour.polling && !event.revokes;
  // Older than a provider event already applied, on the provider's own clock: stale, and no
  // reason to ask the provider (its answer would only repeat what we applied then or since).
  const sentAt = Date.parse(event.occurredAt);
  if (readFirst && sentAt < unchanged) {
    return { plan: { kind: 'apply', event: { ...asSent, knownStale: true } }, newestProviderEventAt: unchanged };
  }
  return { plan: { kind: 'judge', asSent, readFirst }, newestProviderEventAt: Math.max(unchanged, sentAt) };
}
