// One verification, start to finish: open the provider session, then apply provider events,
// timers and operator actions through the pure reducer (state.ts), persisting every decision.
// The workflow is the single writer of a verification's status, so ordering is decided here.
// What each step does lives in verification-run.ts; this file is the loop.
import { context as traceContext } from '@opentelemetry/api';
import { condition, continueAsNew, makeContinueAsNewFunc, setHandler } from '@temporalio/workflow';
import { DeadlineTimer } from './deadline-timer.ts';
import {
  cancelUpdate,
  getStateQuery,
  providerEventSignal,
  reviewUpdate,
  type VerificationView,
  type VerificationWorkflowInput,
} from './messages.ts';
import { cancelEvent, nowIso, rejectIfTerminal, reviewEvent, validateReview } from './own-events.ts';
import { VerificationRun } from './verification-run.ts';

export async function verification(input: VerificationWorkflowInput): Promise<VerificationView> {
  const run = new VerificationRun(input);
  // Signals only queue; operator updates queue too and wait until the loop has applied them.
  setHandler(providerEventSignal, (event) => run.inbox.addProviderEvent(event, traceContext.active()));
  setHandler(getStateQuery, () => run.view());
  setHandler(cancelUpdate, (request) => run.submitOwnEvent(cancelEvent(request, run.state.providerStatus, nowIso()), true), {
    validator: (_request) => rejectIfTerminal(run.state.status),
  });
  setHandler(reviewUpdate, (request) => run.submitOwnEvent(reviewEvent(request, run.state.providerStatus, nowIso()), false), {
    validator: validateReview,
  });
  run.publishSearchAttributes();
  run.opening.startOnFirstRun();
  // Armed across iterations: a message that leaves the deadline where it was, or later, costs no timer.
  const timer = new DeadlineTimer();

  for (;;) {
    await run.serveInbox();
    // While the session is being opened (created, its link emailed, a template's steps run),
    // the loop keeps serving operator actions; provider events wait for the session.
    if (run.opening.running) {
      await condition(() => run.hasWork() || !run.opening.running);
      continue;
    }
    run.opening.throwIfFailed();
    const continuing = run.shouldContinueAsNew();
    if (continuing || run.decisionWindowClosed()) {
      if (!(await run.readyToEnd(continuing))) continue;
      if (!continuing) break;
      const next: VerificationWorkflowInput = { ...input, carried: run.carried() };
      // Each run is pinned to its build; a long-lived entity's next run starts on the current one.
      return input.behaviour.longLived
        ? makeContinueAsNewFunc<typeof verification>({ initialVersioningBehavior: 'AUTO_UPGRADE' })(next)
        : continueAsNew<typeof verification>(next);
    }
    const deadline = run.nextDeadline();
    if (deadline !== null && deadline <= Date.now()) await run.onTimer();
    else await timer.wait(deadline, () => run.inbox.length > 0);
  }
  return run.view();
}
