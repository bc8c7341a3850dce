// What waits to be applied, in arrival order: provider events (signals) and the workflow's own
// events (operator actions, session results), whose submitters wait for an answer. One loop
// alone takes batches from it and mutates state. Pure: the workflow awaits answers with
// `condition(() => inbox.isAnswered(id))`.
import type { Context as TraceContext } from '@opentelemetry/api';
import type { ApplicationFailure } from '@temporalio/workflow';
import type { ProviderEvent } from '../domain/verification.ts';
import type { ReducerEvent } from './state.ts';

export type InboxItem =
  /** `trace`: the signal's trace context (Temporal's OpenTelemetry interceptors), so its webhook's trace continues through what the event causes. */
  | { kind: 'provider'; event: ProviderEvent; trace?: TraceContext }
  /** An event this workflow decides itself (operator action, session result); its submitter waits until it is applied. */
  | { kind: 'own'; id: number; event: ReducerEvent; requireOpen: boolean };

export class Inbox {
  private items: InboxItem[];
  private lastOwnId = 0;
  /** Answered own events by id (not a high-water mark: the session's creation is served ahead of earlier items). */
  private readonly answers = new Map<number, ApplicationFailure | null>();

  /** `carried`: provider events a previous run had not applied yet. */
  constructor(carried: readonly ProviderEvent[] = []) {
    this.items = carried.map((event) => ({ kind: 'provider', event }));
  }

  get length(): number {
    return this.items.length;
  }

  addProviderEvent(event: ProviderEvent, trace?: TraceContext): void {
    this.items.push({ kind: 'provider', event, trace });
  }

  /** Queues an own event and returns its id. `first`: ahead of everything (the session's creation precedes every event about the session). */
  addOwnEvent(event: ReducerEvent, requireOpen: boolean, first = false): number {
    const item: InboxItem = { kind: 'own', id: ++this.lastOwnId, event, requireOpen };
    if (first) this.items.unshift(item);
    else this.items.push(item);
    return item.id;
  }

  /**
   * Whether a batch can be taken. `providerEventsWait`: provider events (and what came after
   * them, so arrival order still decides) wait, e.g. until the session exists.
   */
  hasWork(providerEventsWait: boolean): boolean {
    return this.items.length > 0 && (!providerEventsWait || this.items[0]!.kind === 'own');
  }

  takeBatch(providerEventsWait: boolean): InboxItem[] {
    const firstProviderEvent = providerEventsWait ? this.items.findIndex((item) => item.kind === 'provider') : -1;
    return this.items.splice(0, firstProviderEvent === -1 ? this.items.length : firstProviderEvent);
  }

  /** An own event was applied (failure null) or refused. */
  answer(id: number, failure: ApplicationFailure | null): void {
    this.answers.set(id, failure);
  }

  isAnswered(id: number): boolean {
    return this.answers.has(id);
  }

  /** The refusal of an answered own event, if it was refused; forgets the answer. */
  takeAnswer(id: number): ApplicationFailure | null {
    const failure = this.answers.get(id) ?? null;
    this.answers.delete(id);
    return failure;
  }

  /** Items a run must serve before it ends: all of them, or when continuing, all but provider events (they ride along). */
  mustServe(continuing: boolean): boolean {
    return this.items.some((item) => !continuing || item.kind !== 'provider');
  }

  /** What the next run inherits. */
  providerEvents(): ProviderEvent[] {
    return this.items.flatMap((item) => (item.kind === 'provider' ? [item.event] : []));
  }
}
