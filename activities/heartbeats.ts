// A worker that dies mid-call holds its activity attempt until Temporal stops hearing from it.
// Without heartbeats that is the whole start-to-close timeout, which has to allow for the slowest
// provider call (a template step may take 25 s); heartbeating while the call runs lets the
// profile's short heartbeat timeout end the lost attempt instead, and a new worker retries it.
import { Context } from '@temporalio/activity';

/** Wraps an activity so it heartbeats while it runs, when its profile set a heartbeat timeout. */
export function heartbeating<Args extends unknown[], Result>(activity: (...args: Args) => Promise<Result>) {
  return async (...args: Args): Promise<Result> => {
    const context = Context.current();
    const timeoutMs = context.info.heartbeatTimeoutMs;
    if (!timeoutMs) return activity(...args);
    // Beats are cheap: the SDK sends at most one per 80% of the timeout; three per timeout leaves room for a busy event loop.
    const beat = setInterval(() => context.heartbeat(), timeoutMs / 3);
    try {
      return await activity(...args);
    } finally {
      clearInterval(beat);
    }
  };
}
