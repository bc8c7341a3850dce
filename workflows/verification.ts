// One verification, start to finish: create the provider session, then apply provider events,
// timers and operator actions through the pure reducer, persisting every decision. The
// workflow is the single writer of a verification's status, so ordering is decided here.
import { context as traceContext, type Context as TraceContext } from '@opentelemetry/api';
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  makeContinueAsNewFunc,
  ParentClosePolicy,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import { FailureType } from '../domain/failures.js';
import { DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS } from '../domain/retry-schedule.js';
import { isTerminalStatus, type ProviderEvent } from '../domain/verification.js';
import {
  cancelUpdate,
  getStateQuery,
  providerEventSignal,
  reviewUpdate,
  searchAttributes,
  webhookDeliveryWorkflowId,
  type CancelInput,
  type CarriedState,
  type SessionRef,
  type VerificationView,
  type VerificationWorkflowInput,
} from './messages.js';
import { toRecordedEffects } from './history.js';
import { judgeWebhook, readEvent, type ProviderRead } from './provider-reads.js';
import {
  DEFAULT_DEDUPE_WINDOW,
  applyEvent,
  atSessionExpiry,
  expiresWithSession,
  initialState,
  type Effect,
  type ReducerEvent,
  type ReducerPolicy,
} from './state.js';
import { webhookDelivery } from './webhook-delivery.js';

type Activities = ReturnType<typeof createActivities>;

const NON_RETRYABLE = [FailureType.providerRejected, FailureType.verificationNotFound];

// Session creation and persistence must eventually succeed: a provider outage only delays them.
// Timeouts stay short because they are also how long a crashed worker's activity waits to be retried.
const durable = proxyActivities<Activities>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m', nonRetryableErrorTypes: NON_RETRYABLE },
});

// Reading the provider is a nudge-follow-up: if it keeps failing we fall back to the event itself.
const READ_RETRY = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts: 5,
  nonRetryableErrorTypes: NON_RETRYABLE,
};

// The two calls every webhook makes — read the provider, record the outcome — as local
// activities: short, idempotent, and run by the worker holding the workflow task, they cost the
// Temporal server a marker instead of a schedule/start/complete round trip each (the bench's
// biggest cost). Session creation stays a regular activity: it can wait on a slow provider, and
// a draining worker lets it finish.
const localReads = proxyLocalActivities<Activities>({ startToCloseTimeout: '12s', retry: READ_RETRY });
const localRecords = proxyLocalActivities<Activities>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m', nonRetryableErrorTypes: NON_RETRYABLE },
});

// Template steps: a provider outage is retried indefinitely with backoff; a 4xx ends the verification in `error`.
const steps = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: NON_RETRYABLE },
});

// The hosted link by email: an SMTP outage is retried a few times, then recorded as failed.
const notifications = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
});

const READ_LAG_RECHECK_MS = 30_000;

type InboxItem =
  /** `trace`: the signal's trace context (Temporal's OpenTelemetry interceptors), so its webhook's trace continues through what the event causes. */
  | { kind: 'provider'; event: ProviderEvent; trace?: TraceContext }
  /** An event this workflow decides itself (operator action, session result); its submitter waits until it is applied. */
  | { kind: 'own'; id: number; event: ReducerEvent; requireOpen: boolean };

/** Work running alongside the main loop, which stops it when it is no longer needed. */
interface Background {
  running: boolean;
  /** What ended it, when not success or being stopped: the workflow fails with it. */
  failure: unknown;
  stop(): void;
}

export async function verification(input: VerificationWorkflowInput): Promise<VerificationView> {
  const { verificationId, behaviour, timers } = input;
  const carried: CarriedState | undefined = input.carried;
  const policy: ReducerPolicy = { reverification: behaviour.reverification, dedupeWindow: DEFAULT_DEDUPE_WINDOW };

  let state = carried?.state ?? initialState();
  let session: SessionRef | null = carried?.session ?? null;
  let nextPollAt: number | null = carried?.nextPollAt ?? null;
  // A look at the provider due soon (read lag, a body to confirm, a failed read); kept apart from
  // the fallback poll, which every event pushes back.
  let recheckAt: number | null = carried?.recheckAt ?? null;
  let decidedAt: number | null = carried?.decidedAt ?? null;
  let newestProviderEventAt = carried?.newestProviderEventAt ?? 0;
  const inbox: InboxItem[] = (carried?.inbox ?? []).map((event) => ({ kind: 'provider', event }));
  const eventsAtRunStart = state.seq;
  // Opening the provider session; started below, once everything it uses is defined.
  let opening: Background = nothingRunning();
  let ownSeq = 0;
  // Served ids, not a high-water mark: the session's creation is served ahead of earlier items.
  const ownDone = new Set<number>();
  const ownErrors = new Map<number, ApplicationFailure>();

  const view = (): VerificationView => ({
    verificationId,
    provider: input.provider,
    status: state.status,
    providerStatus: state.providerStatus,
    reasons: state.reasons,
    providerRef: session?.providerRef ?? null,
    expiresAt: session?.expiresAt ?? null,
    events: state.seq,
    pendingEvents: inbox.length,
  });

  setHandler(providerEventSignal, (event) => {
    inbox.push({ kind: 'provider', event, trace: traceContext.active() });
  });
  setHandler(getStateQuery, view);

  // Operator actions and session results queue behind provider events so one loop alone mutates
  // state. `first`: the session's creation, which precedes every event about the session.
  const submitOwnEvent = async (event: ReducerEvent, requireOpen: boolean, first = false): Promise<VerificationView> => {
    const id = ++ownSeq;
    const item: InboxItem = { kind: 'own', id, event, requireOpen };
    if (first) inbox.unshift(item);
    else inbox.push(item);
    await condition(() => ownDone.has(id));
    ownDone.delete(id);
    const failure = ownErrors.get(id);
    if (failure) {
      ownErrors.delete(id);
      throw failure;
    }
    return view();
  };
  const rejectIfTerminal = (_request: CancelInput): void => {
    if (isTerminalStatus(state.status)) {
      throw ApplicationFailure.create({
        type: FailureType.alreadyTerminal,
        message: `Verification is already ${state.status}`,
        nonRetryable: true,
      });
    }
  };

  setHandler(
    cancelUpdate,
    (request) =>
      submitOwnEvent(
        {
          source: 'operator',
          eventId: null,
          occurredAt: nowIso(),
          status: 'canceled',
          providerStatus: state.providerStatus,
          reasons: [request.reason ?? 'canceled_by_client'],
        },
        true,
      ),
    { validator: rejectIfTerminal },
  );
  setHandler(
    reviewUpdate,
    (request) =>
      submitOwnEvent(
        {
          source: 'operator',
          eventId: null,
          occurredAt: nowIso(),
          status: request.decision,
          providerStatus: state.providerStatus,
          reasons: ['operator_review'],
        },
        false,
      ),
    {
      validator: (request) => {
        if (request.decision !== 'approved' && request.decision !== 'declined') {
          throw ApplicationFailure.create({
            type: FailureType.invalidDecision,
            message: 'decision must be approved or declined',
            nonRetryable: true,
          });
        }
      },
    },
  );

  upsertSearchAttributes([
    { key: searchAttributes.status, value: state.status },
    { key: searchAttributes.provider, value: input.provider },
    { key: searchAttributes.tenantId, value: input.tenantId },
  ]);

  /** Reduce a batch of events, then persist everything it decided in one activity. */
  const applyAll = async (events: { event: ReducerEvent; webhookEventId: string | null }[]): Promise<void> => {
    const effects: Effect[] = [];
    const outcomes: { webhookEventId: string; outcome: 'applied' | 'stale' | 'duplicate' | 'unconfirmed' }[] = [];
    const before = state.status;
    for (const { event, webhookEventId } of events) {
      const result = applyEvent(state, event, policy);
      state = result.state;
      effects.push(...result.effects);
      if (webhookEventId) {
        const recorded = result.effects.find((e) => e.type === 'record');
        const entry = recorded?.type === 'record' ? recorded.entry : null;
        const outcome = result.duplicate
          ? 'duplicate'
          : entry?.applied
            ? 'applied'
            : entry?.reason === 'unconfirmed'
              ? 'unconfirmed'
              : 'stale';
        outcomes.push({ webhookEventId, outcome });
      }
    }
    // A decided verification needs no provider session: stop opening it before the decision is persisted.
    if (isTerminalStatus(state.status)) opening.stop();
    if (effects.length === 0 && outcomes.length === 0) return;
    const recorded = await localRecords.recordEvents({
      verificationId,
      provider: input.provider,
      effects: toRecordedEffects(effects),
      webhookOutcomes: outcomes,
      snapshot: { status: state.status, providerStatus: state.providerStatus, reasons: state.reasons },
    });
    if (state.status !== before) {
      upsertSearchAttributes([{ key: searchAttributes.status, value: state.status }]);
      // Every new decision (a newer provider decision, an operator review) restarts the window.
      decidedAt = isTerminalStatus(state.status) ? Date.now() : null;
      log.info('verification status changed', { verificationId, from: before, to: state.status });
    }
    await startWebhookDeliveries(recorded?.webhookDeliveryIds);
  };

  /** One abandoned child per outbound webhook: its retries (up to a day) never hold this verification up. */
  const startWebhookDeliveries = async (deliveryIds: string[] | undefined): Promise<void> => {
    // Results recorded before outbound webhooks existed carry no ids.
    const retryScheduleMs = timers.webhookRetryScheduleMs ?? [...DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS];
    await Promise.all(
      (deliveryIds ?? []).map((deliveryId) =>
        startChild(webhookDelivery, {
          workflowId: webhookDeliveryWorkflowId(deliveryId),
          args: [{ deliveryId, generation: 0, retryScheduleMs }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
        }).catch((err: unknown) => log.warn('webhook delivery not started', { verificationId, deliveryId, error: String(err) })),
      ),
    );
  };

  /** The provider's authoritative state, or null when it cannot be read now. */
  const readProvider = async (): Promise<ProviderRead | null> => {
    if (!session || !behaviour.polling) return null;
    try {
      return await localReads.fetchProviderState({
        verificationId,
        provider: input.provider,
        providerRef: session.providerRef,
      });
    } catch (err) {
      log.warn('provider state could not be read', { verificationId, error: String(err) });
      return null;
    }
  };

  const recheckSoon = (): void => {
    recheckAt = Math.min(recheckAt ?? Infinity, Date.now() + Math.min(timers.pollIntervalMs, READ_LAG_RECHECK_MS));
  };

  /** One read of the provider serves every webhook of a batch: its answer is the same truth for all. */
  type BatchRead = { read?: Promise<ProviderRead | null> };
  const handleProviderEvent = async (
    event: ProviderEvent,
    batch: BatchRead,
  ): Promise<{ event: ReducerEvent; webhookEventId: string | null }> => {
    nextPollAt = Date.now() + timers.fallbackPollAfterMs;
    const asSent: ReducerEvent = {
      source: 'webhook',
      eventId: event.providerEventId,
      occurredAt: event.occurredAt,
      status: event.status,
      providerStatus: event.providerStatus,
      reasons: event.reasons,
      webhookEventId: event.webhookEventId,
      ...(event.revokes ? { revokes: true } : {}),
    };
    if (state.seenEventIds.includes(event.providerEventId)) return { event: asSent, webhookEventId: event.webhookEventId };
    // A revocation is a fact no read shows; otherwise the webhook is a nudge: apply what the
    // provider says now, so arrival order cannot matter.
    const readFirst = behaviour.fetchBeforeApply && behaviour.polling && !event.revokes;
    // Older than a provider event already applied, on the provider's own clock: stale, and no
    // reason to ask the provider (its answer would only repeat what we applied then or since).
    const sentAt = Date.parse(event.occurredAt);
    if (readFirst && sentAt < newestProviderEventAt)
      return { event: { ...asSent, knownStale: true }, webhookEventId: event.webhookEventId };
    newestProviderEventAt = Math.max(newestProviderEventAt, sentAt);
    let read: ReducerEvent | 'read_failed' | 'not_read' = 'not_read';
    if (readFirst) {
      const fetched = await (batch.read ??= readProvider());
      // Stamped now: the read was made after every webhook of its batch had arrived.
      read = fetched ? readEvent('webhook', fetched, newestProviderEventAt) : 'read_failed';
    }
    const judged = judgeWebhook(asSent, read, behaviour.bodySigned);
    if (judged.recheck) recheckSoon();
    return { event: judged.event, webhookEventId: event.webhookEventId };
  };

  /**
   * Until the session's first entry is recorded, provider events wait (reading the provider needs
   * the session, and the history starts with its creation), and what came after them with them,
   * so arrival order still decides.
   */
  const providerEventsWait = (): boolean => opening.running && state.seq === 0;
  const hasWork = (): boolean => inbox.length > 0 && (!providerEventsWait() || inbox[0]!.kind === 'own');
  const takeBatch = (): InboxItem[] => {
    const firstProviderEvent = providerEventsWait() ? inbox.findIndex((item) => item.kind === 'provider') : -1;
    return inbox.splice(0, firstProviderEvent === -1 ? inbox.length : firstProviderEvent);
  };

  const drainInbox = async (): Promise<void> => {
    for (let batch = takeBatch(); batch.length > 0; batch = takeBatch()) {
      const pending: { event: ReducerEvent; webhookEventId: string | null }[] = [];
      const finished: number[] = [];
      const batchRead: BatchRead = {};
      for (const item of batch) {
        if (item.kind === 'provider') {
          pending.push(await inTrace(item, () => handleProviderEvent(item.event, batchRead)));
          continue;
        }
        finished.push(item.id);
        // Judged against the status once the events that arrived before it (same batch, not yet
        // applied) are: a decision that came first makes a cancel too late.
        const statusBefore = item.requireOpen
          ? pending.reduce((current, p) => applyEvent(current, p.event, policy).state, state).status
          : state.status;
        if (item.requireOpen && isTerminalStatus(statusBefore)) {
          ownErrors.set(
            item.id,
            ApplicationFailure.create({
              type: FailureType.alreadyTerminal,
              message: `Verification is already ${statusBefore}`,
              nonRetryable: true,
            }),
          );
          continue;
        }
        pending.push({ event: item.event, webhookEventId: null });
      }
      // Persisted in the trace of the batch's first webhook, as its provider read was.
      await inTrace(
        batch.find((item) => item.kind === 'provider'),
        () => applyAll(pending),
      );
      for (const id of finished) ownDone.add(id);
    }
  };

  // Sent alongside the rest of the workflow, awaited before it ends or continues as new.
  let linkEmail: Promise<void> = Promise.resolve();
  // The session is opened alongside the loop, not before it: while the provider is down and its
  // creation (or a template step) is retried, operator actions are still served at once.
  if (!carried) opening = inBackground(openSession);

  for (;;) {
    await drainInbox();
    if (opening.running) {
      await condition(() => hasWork() || !opening.running);
      continue;
    }
    if (opening.failure) throw opening.failure;
    const continuing = movesToNewBuild() || shouldContinueAsNew(input, state.seq - eventsAtRunStart);
    if (continuing || decisionWindowClosed()) {
      if (!(await readyToEnd(continuing))) continue;
      if (!continuing) break;
      const next: VerificationWorkflowInput = {
        ...input,
        carried: { state, session, nextPollAt, recheckAt, decidedAt, newestProviderEventAt, inbox: providerEventsIn(inbox) },
      };
      // Each run is pinned to its build; a long-lived entity's next run starts on the current one.
      return behaviour.longLived
        ? makeContinueAsNewFunc<typeof verification>({ initialVersioningBehavior: 'AUTO_UPGRADE' })(next)
        : continueAsNew<typeof verification>(next);
    }
    const deadline = nextDeadline();
    if (deadline === null) {
      await condition(() => inbox.length > 0);
      continue;
    }
    const woke = deadline > Date.now() && (await condition(() => inbox.length > 0, deadline - Date.now()));
    if (!woke) await onTimer();
  }
  return view();

  /**
   * Waits until this run can end with nothing lost: the link email is out and every operator
   * action is answered (an update cannot move to the next run). Provider events that arrive
   * meanwhile ride along into the next run, or are applied first when the workflow closes.
   * False when the loop must serve the inbox first.
   */
  async function readyToEnd(continuing: boolean): Promise<boolean> {
    const mustServe = () => inbox.some((item) => !continuing || item.kind !== 'provider');
    await linkEmail;
    await condition(() => allHandlersFinished() || mustServe());
    return !mustServe();
  }

  /** Creates the provider session, emails its link, runs a template's steps; a provider that refuses ends the verification in `error`. */
  async function openSession(): Promise<void> {
    try {
      const created = await durable.createProviderSession({
        verificationId,
        provider: input.provider,
        templateId: input.templateId,
        sessionTtlMs: timers.sessionTtlMs,
      });
      session = { providerRef: created.providerRef, expiresAt: created.expiresAt };
      nextPollAt = Date.now() + timers.fallbackPollAfterMs;
      await submitOwnEvent(apiEvent(created.status, created.providerStatus, []), false, true);
      // A decision that stops the steps later does not take back the link already on its way.
      if (input.notify?.email) linkEmail = CancellationScope.nonCancellable(sendLinkEmail);
      if (behaviour.multiStep) await runTemplateSteps(created.providerRef);
    } catch (err) {
      if (failureTypeOf(err) !== FailureType.providerRejected) throw err;
      // The provider refused the request itself: retrying cannot help, so the verification ends in `error`.
      log.warn('provider rejected the verification', { verificationId });
      await submitOwnEvent(apiEvent('error', state.providerStatus, ['provider_rejected']), false, true);
    }
  }

  function sendLinkEmail(): Promise<void> {
    return notifications.sendVerificationLinkEmail({ verificationId }).then(
      () => undefined,
      (err: unknown) => log.warn('link email not sent', { verificationId, error: String(err) }),
    );
  }

  /** Each step its own activity: after a crash, replay skips finished steps and resumes at the next. */
  async function runTemplateSteps(providerRef: string): Promise<void> {
    const { steps: templateSteps } = await durable.listTemplateSteps({ provider: input.provider, templateId: input.templateId });
    for (const [stepIndex, step] of templateSteps.entries()) {
      const ran = await steps.runTemplateStep({
        verificationId,
        provider: input.provider,
        providerRef,
        templateId: input.templateId,
        stepIndex,
        totalSteps: templateSteps.length,
        step,
      });
      // The step's webhook row is written: start its delivery even if the steps are being stopped.
      await CancellationScope.nonCancellable(() => startWebhookDeliveries(ran?.webhookDeliveryIds));
    }
    const final = await steps.finalizeSession({ verificationId, provider: input.provider, providerRef, templateId: input.templateId });
    await submitOwnEvent(readEvent('api', final, newestProviderEventAt), false);
  }

  /**
   * A long-lived entity (Stripe account) would otherwise stay on its first build for months: once
   * another build is current (Worker Versioning), it carries its state over to it. Verifications
   * finish on the build they started on.
   */
  function movesToNewBuild(): boolean {
    return behaviour.longLived && workflowInfo().targetWorkerDeploymentVersionChanged;
  }

  function decisionWindowClosed(): boolean {
    return (
      !behaviour.longLived && isTerminalStatus(state.status) && decidedAt !== null && Date.now() >= decidedAt + timers.decisionWindowMs
    );
  }

  function nextDeadline(): number | null {
    // Decided: only newer decisions can change it, and those arrive as events. A long-lived
    // entity (Stripe account) waits for them indefinitely; others close after the window.
    if (isTerminalStatus(state.status)) return behaviour.longLived || decidedAt === null ? null : decidedAt + timers.decisionWindowMs;
    const candidates: number[] = [];
    // A session in review at the provider outlives its expiry: polling goes on until a decision.
    if (session?.expiresAt && expiresWithSession(state.status)) candidates.push(Date.parse(session.expiresAt));
    if (behaviour.polling && nextPollAt !== null) candidates.push(nextPollAt);
    if (behaviour.polling && recheckAt !== null) candidates.push(recheckAt);
    return candidates.length ? Math.min(...candidates) : null;
  }

  async function onTimer(): Promise<void> {
    if (isTerminalStatus(state.status)) return;
    const now = Date.now();
    if (session?.expiresAt && expiresWithSession(state.status) && now >= Date.parse(session.expiresAt)) {
      // A final look before giving up: the decision may exist and its webhook be lost.
      const fetched = await readProvider();
      const final = fetched ? readEvent('poll', fetched, newestProviderEventAt) : null;
      await applyAll(atSessionExpiry(state, final, nowIso(), policy).map((event) => ({ event, webhookEventId: null })));
      return;
    }
    const recheckDue = recheckAt !== null && now >= recheckAt;
    const pollDue = nextPollAt !== null && now >= nextPollAt;
    if (!behaviour.polling || !(recheckDue || pollDue)) return;
    if (recheckDue) recheckAt = null;
    if (pollDue) nextPollAt = now + timers.pollIntervalMs;
    const fetched = await readProvider();
    if (!fetched) {
      // A recheck is owed an answer: ask again soon until the provider gives one.
      if (recheckDue) recheckSoon();
      return;
    }
    const polled = readEvent('poll', fetched, newestProviderEventAt);
    // A poll that finds nothing new is not an event worth a history row (hourly, forever otherwise).
    if (polled.status === state.status && polled.providerStatus === state.providerStatus) return;
    const before = state.status;
    await applyAll([{ event: polled, webhookEventId: null }]);
    if (state.status !== before) log.info('verification recovered via polling', { verificationId, from: before, to: state.status });
  }
}

function nowIso(): string {
  return new Date().toISOString();
}

function apiEvent(status: ReducerEvent['status'], providerStatus: string | null, reasons: string[]): ReducerEvent {
  return { source: 'api', eventId: null, occurredAt: nowIso(), status, providerStatus, reasons };
}

/**
 * Runs `work` in the trace of the signal that delivered `item`: the loop that processes events
 * runs in the workflow's own (the creation request's) trace. Without tracing, contexts are empty.
 */
function inTrace<T>(item: InboxItem | undefined, work: () => Promise<T>): Promise<T> {
  return item?.kind === 'provider' && item.trace ? traceContext.with(item.trace, work) : work();
}

function providerEventsIn(inbox: InboxItem[]): ProviderEvent[] {
  return inbox.flatMap((item) => (item.kind === 'provider' ? [item.event] : []));
}

/** Runs `work` in its own cancellation scope; being stopped is a normal end. */
function inBackground(work: () => Promise<void>): Background {
  const scope = new CancellationScope();
  const task: Background = { running: true, failure: null, stop: () => task.running && scope.cancel() };
  void scope
    .run(work)
    .catch((err: unknown) => {
      if (!isCancellation(err)) task.failure = err;
    })
    .finally(() => {
      task.running = false;
    });
  return task;
}

function nothingRunning(): Background {
  return { running: false, failure: null, stop: () => undefined };
}

/** The ApplicationFailure type behind an activity failure, if any (local activities surface it unwrapped). */
function failureTypeOf(err: unknown): string | undefined {
  const failure = err instanceof ActivityFailure ? err.cause : err;
  return failure instanceof ApplicationFailure ? (failure.type ?? undefined) : undefined;
}

function shouldContinueAsNew(input: VerificationWorkflowInput, eventsThisRun: number): boolean {
  if (workflowInfo().continueAsNewSuggested) return true;
  return input.continueAsNewAfterEvents !== undefined && eventsThisRun >= input.continueAsNewAfterEvents;
}
