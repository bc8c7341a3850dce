// A batch of events through the reducer: the new state, every effect to persist, and what became
// of each stored webhook. Pure; the workflow persists the result in one recordEvents activity.
import type { WebhookOutcome } from '../activities/records.ts';
import { applyEvent, type ApplyResult, type Effect, type ReducerEvent, type ReducerPolicy, type VerificationState } from './state.ts';

export interface BatchEvent {
  event: ReducerEvent;
  /** The stored webhook row the event came from; its row records the outcome. */
  webhookEventId: string | null;
}

export interface ReducedBatch {
  state: VerificationState;
  effects: Effect[];
  webhookOutcomes: { webhookEventId: string; outcome: WebhookOutcome }[];
}

export function reduceBatch(state: VerificationState, events: readonly BatchEvent[], policy: ReducerPolicy): ReducedBatch {
  const effects: Effect[] = [];
  const webhookOutcomes: ReducedBatch['webhookOutcomes'] = [];
  for (const { event, webhookEventId } of events) {
    const result = applyEvent(state, event, policy);
    state = result.state;
    effects.push(...result.effects);
    if (webhookEventId) webhookOutcomes.push({ webhookEventId, outcome: webhookOutcome(result) });
  }
  return { state, effects, webhookOutcomes };
}

/** A webhook row's outcome: what the reducer did with its event. */
export function webhookOutcome(result: ApplyResult): WebhookOutcome {
  if (result.duplicate) return 'duplicate';
  const recorded = result.effects.find((e) => e.type === 'record');
  const entry = recorded?.type === 'record' ? recorded.entry : null;
  return entry?.applied ? 'applied' : entry?.reason === 'unconfirmed' ? 'unconfirmed' : 'stale';
}

/** The status after the events of a batch so far, before they are applied: what a cancel is judged against. */
export function statusAfter(state: VerificationState, events: readonly BatchEvent[], policy: ReducerPolicy): VerificationState['status'] {
  return events.reduce((current, p) => applyEvent(current, p.event, policy).state, state).status;
}
