// How a provider webhook and a read of the provider's state become the one event the reducer
// sees, and when to look at the provider again soon. Pure, so the property tests drive the same
// rules the workflow runs.
//
// One clock per comparison: provider events carry the provider's time; a read carries no
// provider time at all (Stripe's Account has none), only ours. A read reflects at least every
// provider event seen before it, so it is placed on the provider's clock at the newest of those
// (`newestProviderEventAt`) and, at that same time, after them; reads order among themselves by
// our clock. A provider event newer on the provider's clock than anything a read had seen
// therefore beats that read, whatever the skew between the two clocks.
//
// When a webhook needs no read: a duplicate, an event older on the provider's clock than one
// applied (`planWebhook`: the read would only repeat it), a revocation (a fact no read shows).
// A signed body newer than anything applied is the provider's state at its own time: applied
// unread it still takes its place by that time, so the order holds. It is read all the same
// while the provider read budget allows (activities/read-budget.ts), because the read orders
// events of one provider second (Stripe's whole seconds), brings what the body lacks (reasons,
// the document) and shows a state reached after the body was sent. A read the budget refuses is
// `read_failed` here: exactly that rule, and the recheck restores what the read would have
// brought. An unsigned body proves nothing and is never applied unread.
import { isTerminalStatus, type VerificationStatus } from '../domain/verification.ts';
import type { ReducerEvent } from './state.ts';

/** What a read of the provider returned (the fetchProviderState activity's answer). */
export interface ProviderRead {
  status: VerificationStatus;
  providerStatus: string;
  reasons: string[];
  /** When we read it, on our clock. */
  fetchedAt: string;
}

/** A state read from the provider as a reducer event. `newestProviderEventAt`: epoch ms, provider's clock. */
export function readEvent(source: ReducerEvent['source'], read: ProviderRead, newestProviderEventAt: number): ReducerEvent {
  return {
    source,
    eventId: null,
    occurredAt: new Date(newestProviderEventAt).toISOString(),
    readAt: read.fetchedAt,
    status: read.status,
    providerStatus: read.providerStatus,
    reasons: read.reasons,
  };
}

/** Why the provider should be read again soon rather than at the next fallback poll. */
export type Recheck = 'read_lag' | 'unconfirmed' | 'read_failed';

export interface WebhookJudgement {
  event: ReducerEvent;
  recheck: Recheck | null;
}

/**
 * The event a webhook applies, given the read made for it: a state read from the provider, or
 * `read_failed`, or `not_read` (the provider is not read before applying, or the event is itself
 * the fact, such as a revocation). `bodySigned`: the provider's signature covers the body.
 */
export function judgeWebhook(asSent: ReducerEvent, read: ReducerEvent | 'read_failed' | 'not_read', bodySigned: boolean): WebhookJudgement {
  if (typeof read === 'string') {
    // A body no signature covers (SmileID signs only its timestamp) proves nothing: record it,
    // and ask the provider until it answers.
    if (!bodySigned) return { event: { ...asSent, unconfirmed: true }, recheck: 'unconfirmed' };
    // A signed body is the provider's state at its own time; a read soon places it among the rest.
    return { event: asSent, recheck: read === 'read_failed' ? 'read_failed' : null };
  }
  // The read is applied in the webhook's name (its id dedupes, its payload may hold a document).
  const event: ReducerEvent = {
    ...asSent,
    occurredAt: read.occurredAt,
    readAt: read.readAt,
    status: read.status,
    providerStatus: read.providerStatus,
    reasons: read.reasons,
  };
  // The webhook announces a decision the read API does not show yet (read lag): look again soon.
  const lagging = isTerminalStatus(asSent.status) && !isTerminalStatus(read.status);
  return { event, recheck: lagging ? 'read_lag' : null };
}
