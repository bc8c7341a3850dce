// The one durable timer the verification loop keeps armed for its next deadline. When to keep,
// cancel or arm it is `timerChange` (deadlines.ts); this is the Temporal side: a `sleep` in a
// scope of its own, so it outlives the waits it serves and is cancelled only when that says so.
// (`condition(…, timeout)` would start a timer per wait and cancel it on every message.)
import { CancellationScope, condition, isCancellation, sleep } from '@temporalio/workflow';
import { timerChange } from './deadlines.ts';

interface Armed {
  at: number;
  scope: CancellationScope;
  fired: boolean;
}

export class DeadlineTimer {
  private armed: Armed | null = null;

  /**
   * Waits until `woken()`, or until the armed timer fires: at `deadline` (ahead of now; null:
   * none), or earlier when the deadline has since moved later. The caller looks at the clock again.
   */
  async wait(deadline: number | null, woken: () => boolean): Promise<void> {
    if (this.armed?.fired) this.armed = null;
    const change = timerChange(this.armed?.at ?? null, deadline);
    if (change.kind !== 'keep') {
      this.armed?.scope.cancel();
      this.armed = change.kind === 'arm' ? arm(change.at) : null;
    }
    const armed = this.armed;
    await condition(() => woken() || armed?.fired === true);
  }
}

function arm(at: number): Armed {
  const armed: Armed = { at, scope: new CancellationScope(), fired: false };
  void armed.scope
    .run(() => sleep(at - Date.now()))
    .then(
      () => (armed.fired = true),
      (err: unknown) => {
        // Cancelled by `wait` (or with the workflow): nothing was due. Anything else fails the task.
        if (!isCancellation(err)) throw err;
      },
    );
  return armed;
}
