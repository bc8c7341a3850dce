// Opening a verification's provider session: create it, email its link, run a multi-step
// template's steps and finalize. It runs alongside the verification loop (verification.ts) in its
// own cancellation scope, not before it: while the provider is down and a call is retried for
// minutes, the loop still serves operator actions at once, and a decision stops the opening.
// What it learns goes to the run through `OpeningRun`: the one loop applies it, in order.
import { CancellationScope, isCancellation, log } from '@temporalio/workflow';
import { FailureType } from '../domain/failures.ts';
import { failureTypeOf, notifications, providerCalls, templateSteps } from './activity-profiles.ts';
import type { SessionRef, VerificationWorkflowInput } from './messages.ts';
import { apiEvent, nowIso } from './own-events.ts';
import type { ProviderRead } from './provider-reads.ts';
import type { ReducerEvent } from './state.ts';

/** What the opening needs from the run it belongs to. */
export interface OpeningRun {
  /** Queues an event for the loop (`first`: ahead of everything) and waits until it is applied. */
  submit(event: ReducerEvent, first: boolean): Promise<unknown>;
  sessionCreated(session: SessionRef): void;
  /** The provider status the verification has now. */
  providerStatus(): string | null;
  /** The provider's decision after the last step, as the event to apply. */
  finalEvent(read: ProviderRead): ReducerEvent;
  startWebhookDeliveries(deliveryIds: string[] | undefined): Promise<void>;
}

export class SessionOpening {
  private task: Background = { running: false, failure: null, stop: () => undefined };
  /** Sent alongside the rest of the workflow, awaited before it ends or continues as new. */
  private linkEmail: Promise<void> = Promise.resolve();

  private readonly input: VerificationWorkflowInput;
  private readonly run: OpeningRun;

  constructor(input: VerificationWorkflowInput, run: OpeningRun) {
    this.input = input;
    this.run = run;
  }

  /** A first run opens the session; a run continued as new inherits it. */
  startOnFirstRun(): void {
    if (!this.input.carried) this.task = inBackground(() => this.open());
  }

  get running(): boolean {
    return this.task.running;
  }

  /** A decided verification needs no provider session. */
  stop(): void {
    this.task.stop();
  }

  /** Opening failed for a reason that fails the workflow. */
  throwIfFailed(): void {
    if (this.task.failure) throw this.task.failure;
  }

  linkEmailSent(): Promise<void> {
    return this.linkEmail;
  }

  /** Creates the provider session, emails its link, runs a template's steps; a provider that refuses ends the verification in `error`. */
  private async open(): Promise<void> {
    const { verificationId, provider, templateId, timers, behaviour, notify } = this.input;
    try {
      const created = await providerCalls.createProviderSession({
        verificationId,
        provider,
        templateId,
        sessionTtlMs: timers.sessionTtlMs,
      });
      this.run.sessionCreated({ providerRef: created.providerRef, expiresAt: created.expiresAt });
      await this.run.submit(apiEvent(created.status, created.providerStatus, [], nowIso()), true);
      // A decision that stops the steps later does not take back the link already on its way.
      if (notify?.email) this.linkEmail = CancellationScope.nonCancellable(() => this.sendLinkEmail());
      if (behaviour.multiStep) await this.runTemplateSteps(created.providerRef);
    } catch (err) {
      if (failureTypeOf(err) !== FailureType.providerRejected) throw err;
      // The provider refused the request itself: retrying cannot help, so the verification ends in `error`.
      log.warn('provider rejected the verification', { verificationId });
      await this.run.submit(apiEvent('error', this.run.providerStatus(), ['provider_rejected'], nowIso()), true);
    }
  }

  private sendLinkEmail(): Promise<void> {
    const { verificationId } = this.input;
    return notifications.sendVerificationLinkEmail({ verificationId }).then(
      () => undefined,
      (err: unknown) => log.warn('link email not sent', { verificationId, error: String(err) }),
    );
  }

  /** Each step its own activity: after a crash, replay skips finished steps and resumes at the next. */
  private async runTemplateSteps(providerRef: string): Promise<void> {
    const { verificationId, provider, templateId } = this.input;
    const { steps } = await providerCalls.listTemplateSteps({ provider, templateId });
    for (const [stepIndex, step] of steps.entries()) {
      const ran = await templateSteps.runTemplateStep({
        verificationId,
        provider,
        providerRef,
        templateId,
        stepIndex,
        totalSteps: steps.length,
        step,
      });
      // The step's webhook row is written: start its delivery even if the steps are being stopped.
      await CancellationScope.nonCancellable(() => this.run.startWebhookDeliveries(ran?.webhookDeliveryIds));
    }
    const final = await templateSteps.finalizeSession({ verificationId, provider, providerRef, templateId });
    await this.run.submit(this.run.finalEvent(final), false);
  }
}

/** Work running alongside the main loop, which stops it when it is no longer needed. */
interface Background {
  running: boolean;
  /** What ended it, when not success or being stopped: the workflow fails with it. */
  failure: unknown;
  stop(): void;
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
