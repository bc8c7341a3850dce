// One run of the verification workflow: its state, and the named steps the loop in
// verification.ts takes. The glue between Temporal (activities, child workflows, search
// attributes, the clock) and the pure decisions: the reducer (state.ts), webhook enrichment
// (webhook-events.ts, provider-reads.ts), deadlines and timers (deadlines.ts), the operator
// queue (inbox.ts) and batches (reduce-batch.ts). Opening the session is session-opening.ts.
import { context as traceContext } from '@opentelemetry/api';
import {
  ApplicationFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  log,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { FailureType } from '../domain/failures.ts';
import { DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS } from '../domain/retry-schedule.ts';
import { isTerminalStatus, type ProviderEvent } from '../domain/verification.ts';
import { failureTypeOf, providerReads, records } from './activity-profiles.ts';
import { decisionWindowClosed, nextDeadline, pollChangesNothing, recheckSoon, timerAction, type Schedule } from './deadlines.ts';
import { toRecordedEffects } from './history.ts';
import { Inbox, type InboxItem } from './inbox.ts';
import {
  searchAttributes,
  webhookDeliveryWorkflowId,
  type CarriedState,
  type SessionRef,
  type VerificationView,
  type VerificationWorkflowInput,
} from './messages.ts';
import { alreadyTerminal, nowIso } from './own-events.ts';
import { judgeWebhook, readEvent, type ProviderRead } from './provider-reads.ts';
import { reduceBatch, statusAfter, type BatchEvent } from './reduce-batch.ts';
import { SessionOpening } from './session-opening.ts';
import {
  DEFAULT_DEDUPE_WINDOW,
  atSessionExpiry,
  initialState,
  type ReducerEvent,
  type ReducerPolicy,
  type VerificationState,
} from './state.ts';
import { webhookDelivery } from './webhook-delivery.ts';
import { planWebhook } from './webhook-events.ts';

/** One read of the provider serves every webhook of a batch: its answer is the same truth for all. */
type BatchRead = { read?: Promise<ProviderRead | null> };

export class VerificationRun {
  state: VerificationState;
  readonly inbox: Inbox;
  private session: SessionRef | null;
  private nextPollAt: number | null;
  private recheckAt: number | null;
  private decidedAt: number | null;
  private newestProviderEventAt: number;
  private readonly policy: ReducerPolicy;
  private readonly eventsAtRunStart: number;
  /** Opening the provider session runs alongside the loop (session-opening.ts). */
  readonly opening: SessionOpening;

  private readonly input: VerificationWorkflowInput;

  constructor(input: VerificationWorkflowInput) {
    this.input = input;
    const carried = input.carried;
    this.state = carried?.state ?? initialState();
    this.session = carried?.session ?? null;
    this.nextPollAt = carried?.nextPollAt ?? null;
    this.recheckAt = carried?.recheckAt ?? null;
    this.decidedAt = carried?.decidedAt ?? null;
    this.newestProviderEventAt = carried?.newestProviderEventAt ?? 0;
    this.inbox = new Inbox(carried?.inbox ?? []);
    this.policy = { reverification: input.behaviour.reverification, dedupeWindow: DEFAULT_DEDUPE_WINDOW };
    this.eventsAtRunStart = this.state.seq;
    this.opening = new SessionOpening(input, {
      submit: (event, first) => this.submitOwnEvent(event, false, first),
      sessionCreated: (session) => {
        this.session = session;
        this.nextPollAt = Date.now() + input.timers.fallbackPollAfterMs;
      },
      providerStatus: () => this.state.providerStatus,
      finalEvent: (read) => readEvent('api', read, this.newestProviderEventAt),
      startWebhookDeliveries: (deliveryIds) => this.startWebhookDeliveries(deliveryIds),
    });
  }

  view(): VerificationView {
    return {
      verificationId: this.input.verificationId,
      provider: this.input.provider,
      status: this.state.status,
      providerStatus: this.state.providerStatus,
      reasons: this.state.reasons,
      providerRef: this.session?.providerRef ?? null,
      expiresAt: this.session?.expiresAt ?? null,
      events: this.state.seq,
      pendingEvents: this.inbox.length,
    };
  }

  /** What the next run inherits. */
  carried(): CarriedState {
    const { state, session, nextPollAt, recheckAt, decidedAt, newestProviderEventAt } = this;
    return { state, session, nextPollAt, recheckAt, decidedAt, newestProviderEventAt, inbox: this.inbox.providerEvents() };
  }

  publishSearchAttributes(): void {
    upsertSearchAttributes([
      { key: searchAttributes.status, value: this.state.status },
      { key: searchAttributes.provider, value: this.input.provider },
      { key: searchAttributes.tenantId, value: this.input.tenantId },
    ]);
  }

  /**
   * Queues an event this workflow decides itself behind what arrived before it (so one loop
   * alone mutates state) and waits until the loop has applied it. `first`: ahead of everything.
   */
  async submitOwnEvent(event: ReducerEvent, requireOpen: boolean, first = false): Promise<VerificationView> {
    const id = this.inbox.addOwnEvent(event, requireOpen, first);
    await condition(() => this.inbox.isAnswered(id));
    const refusal = this.inbox.takeAnswer(id);
    if (refusal) throw refusal;
    return this.view();
  }

  /**
   * Until the session's first entry is recorded, provider events wait (reading the provider needs
   * the session, and the history starts with its creation), and what came after them with them,
   * so arrival order still decides.
   */
  private providerEventsWait(): boolean {
    return this.opening.running && this.state.seq === 0;
  }

  hasWork(): boolean {
    return this.inbox.hasWork(this.providerEventsWait());
  }

  /** Applies everything in the inbox that may be applied now, batch by batch, and answers its submitters. */
  async serveInbox(): Promise<void> {
    for (let batch = this.takeBatch(); batch.length > 0; batch = this.takeBatch()) {
      const pending: BatchEvent[] = [];
      const answered: [number, ApplicationFailure | null][] = [];
      const batchRead: BatchRead = {};
      for (const item of batch) {
        if (item.kind === 'provider') {
          pending.push(await inTrace(item, () => this.providerEventToApply(item.event, batchRead)));
          continue;
        }
        // Judged against the status once the events that arrived before it (same batch, not yet
        // applied) are: a decision that came first makes a cancel too late.
        const statusBefore = item.requireOpen ? statusAfter(this.state, pending, this.policy) : this.state.status;
        if (item.requireOpen && isTerminalStatus(statusBefore)) {
          answered.push([item.id, alreadyTerminal(statusBefore)]);
          continue;
        }
        answered.push([item.id, null]);
        pending.push({ event: item.event, webhookEventId: null });
      }
      // Persisted in the trace of the batch's first webhook, as its provider read was.
      await inTrace(
        batch.find((item) => item.kind === 'provider'),
        () => this.applyAll(pending),
      );
      for (const [id, refusal] of answered) this.inbox.answer(id, refusal);
    }
  }

  private takeBatch(): InboxItem[] {
    return this.inbox.takeBatch(this.providerEventsWait());
  }

  /** Reduce a batch of events, then persist everything it decided in one activity. */
  private async applyAll(events: BatchEvent[]): Promise<void> {
    const before = this.state.status;
    const reduced = reduceBatch(this.state, events, this.policy);
    this.state = reduced.state;
    // A decided verification needs no provider session: stop opening it before the decision is persisted.
    if (isTerminalStatus(this.state.status)) this.opening.stop();
    if (reduced.effects.length === 0 && reduced.webhookOutcomes.length === 0) return;
    const { verificationId, provider } = this.input;
    const recorded = await records.recordEvents({
      verificationId,
      provider,
      effects: toRecordedEffects(reduced.effects),
      webhookOutcomes: reduced.webhookOutcomes,
      snapshot: { status: this.state.status, providerStatus: this.state.providerStatus, reasons: this.state.reasons },
    });
    if (this.state.status !== before) {
      upsertSearchAttributes([{ key: searchAttributes.status, value: this.state.status }]);
      // Every new decision (a newer provider decision, an operator review) restarts the window.
      this.decidedAt = isTerminalStatus(this.state.status) ? Date.now() : null;
      log.info('verification status changed', { verificationId, from: before, to: this.state.status });
    }
    await this.startWebhookDeliveries(recorded?.webhookDeliveryIds);
  }

  /** One abandoned child per outbound webhook: its retries (up to a day) never hold this verification up. */
  private async startWebhookDeliveries(deliveryIds: string[] | undefined): Promise<void> {
    // Results recorded before outbound webhooks existed carry no ids.
    const retryScheduleMs = this.input.timers.webhookRetryScheduleMs ?? [...DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS];
    const { verificationId } = this.input;
    await Promise.all(
      (deliveryIds ?? []).map((deliveryId) =>
        startChild(webhookDelivery, {
          workflowId: webhookDeliveryWorkflowId(deliveryId),
          args: [{ deliveryId, generation: 0, retryScheduleMs }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
        }).catch((err: unknown) => log.warn('webhook delivery not started', { verificationId, deliveryId, error: String(err) })),
      ),
    );
  }

  /** The provider's authoritative state, or null when it cannot be read now. */
  private async readProvider({ beforeExpiry = false } = {}): Promise<ProviderRead | null> {
    if (!this.session || !this.input.behaviour.polling) return null;
    const { verificationId, provider } = this.input;
    const request = { verificationId, provider, providerRef: this.session.providerRef };
    try {
      return await providerReads.fetchProviderState(beforeExpiry ? { ...request, beforeExpiry } : request);
    } catch (err) {
      // Over the read budget is the budget at work, not the provider failing (veriflow_provider_reads_total counts both).
      if (failureTypeOf(err) === FailureType.providerReadOverBudget) log.info('provider read over budget', { verificationId });
      else log.warn('provider state could not be read', { verificationId, error: String(err) });
      return null;
    }
  }

  private recheckSoon(): void {
    this.recheckAt = recheckSoon(this.recheckAt, Date.now(), this.input.timers.pollIntervalMs);
  }

  /** A provider event as the reducer event to apply: read the provider first where the plan says so. */
  private async providerEventToApply(event: ProviderEvent, batch: BatchRead): Promise<BatchEvent> {
    const { behaviour, timers } = this.input;
    this.nextPollAt = Date.now() + timers.fallbackPollAfterMs;
    const seen = { seenEventIds: this.state.seenEventIds, newestProviderEventAt: this.newestProviderEventAt };
    const { plan, newestProviderEventAt } = planWebhook(event, seen, behaviour);
    this.newestProviderEventAt = newestProviderEventAt;
    if (plan.kind === 'apply') return { event: plan.event, webhookEventId: event.webhookEventId };
    let read: ReducerEvent | 'read_failed' | 'not_read' = 'not_read';
    if (plan.readFirst) {
      const fetched = await (batch.read ??= this.readProvider());
      // Stamped now: the read was made after every webhook of its batch had arrived.
      read = fetched ? readEvent('webhook', fetched, this.newestProviderEventAt) : 'read_failed';
    }
    const judged = judgeWebhook(plan.asSent, read, behaviour.bodySigned);
    if (judged.recheck) this.recheckSoon();
    return { event: judged.event, webhookEventId: event.webhookEventId };
  }

  private schedule(): Schedule {
    const { session, nextPollAt, recheckAt, decidedAt } = this;
    return { status: this.state.status, session, nextPollAt, recheckAt, decidedAt };
  }

  nextDeadline(): number | null {
    return nextDeadline(this.schedule(), this.input.behaviour, this.input.timers);
  }

  decisionWindowClosed(): boolean {
    return decisionWindowClosed(this.schedule(), this.input.behaviour, this.input.timers, Date.now());
  }

  /** A deadline passed: expire the session, or read the provider (fallback poll, recheck). */
  async onTimer(): Promise<void> {
    const action = timerAction(this.schedule(), this.input.behaviour, this.input.timers.pollIntervalMs, Date.now());
    if (action.kind === 'none') return;
    if (action.kind === 'expire') {
      // A final look before giving up: the decision may exist and its webhook be lost.
      const fetched = await this.readProvider({ beforeExpiry: true });
      const final = fetched ? readEvent('poll', fetched, this.newestProviderEventAt) : null;
      const events = atSessionExpiry(this.state, final, nowIso(), this.policy);
      await this.applyAll(events.map((event) => ({ event, webhookEventId: null })));
      return;
    }
    this.nextPollAt = action.nextPollAt;
    this.recheckAt = action.recheckAt;
    const fetched = await this.readProvider();
    if (!fetched) {
      // A recheck is owed an answer: ask again soon until the provider gives one.
      if (action.recheckDue) this.recheckSoon();
      return;
    }
    const polled = readEvent('poll', fetched, this.newestProviderEventAt);
    if (pollChangesNothing(polled, this.state)) return;
    const before = this.state.status;
    await this.applyAll([{ event: polled, webhookEventId: null }]);
    if (this.state.status !== before) {
      log.info('verification recovered via polling', { verificationId: this.input.verificationId, from: before, to: this.state.status });
    }
  }

  /**
   * Continue as new: Temporal suggests it, the run has recorded enough events, or a long-lived
   * entity (Stripe account), which would otherwise stay on its first build for months, sees
   * another build current (Worker Versioning). Verifications finish on the build they started on.
   */
  shouldContinueAsNew(): boolean {
    const { behaviour, continueAsNewAfterEvents } = this.input;
    if (behaviour.longLived && workflowInfo().targetWorkerDeploymentVersionChanged) return true;
    if (workflowInfo().continueAsNewSuggested) return true;
    return continueAsNewAfterEvents !== undefined && this.state.seq - this.eventsAtRunStart >= continueAsNewAfterEvents;
  }

  /**
   * Waits until this run can end with nothing lost: the link email is out and every operator
   * action is answered (an update cannot move to the next run). Provider events that arrive
   * meanwhile ride along into the next run, or are applied first when the workflow closes.
   * False when the loop must serve the inbox first.
   */
  async readyToEnd(continuing: boolean): Promise<boolean> {
    await this.opening.linkEmailSent();
    await condition(() => allHandlersFinished() || this.inbox.mustServe(continuing));
    return !this.inbox.mustServe(continuing);
  }
}

/**
 * Runs `work` in the trace of the signal that delivered `item`: the loop that processes events
 * runs in the workflow's own (the creation request's) trace. Without tracing, contexts are empty.
 */
function inTrace<T>(item: InboxItem | undefined, work: () => Promise<T>): Promise<T> {
  return item?.kind === 'provider' && item.trace ? traceContext.with(item.trace, work) : work();
}
