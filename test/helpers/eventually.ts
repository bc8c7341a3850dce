// Waiting on a condition in tests: poll until it holds, or fail loudly. A wait that times out
// silently lets the test go on with a value that never met the condition and fail (or pass)
// somewhere else for a reason nobody can see.
import { inspect } from 'node:util';

export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** What is awaited, for the timeout error; the condition's source text when omitted. */
  what?: string;
}

/** Polls `read` until `done` holds and returns that value; throws after `timeoutMs` with the last value read. */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 20_000, intervalMs = 100, what = `(${String(done)})` }: EventuallyOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value)) {
    if (Date.now() >= deadline) {
      const last = inspect(value, { depth: 6, breakLength: Infinity, maxStringLength: 500 });
      throw new Error(`${what} did not happen within ${timeoutMs} ms; last value: ${last.slice(0, 4000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    value = await read();
  }
  return value;
}

/** Waits until `check` holds on in-process state (what a test receiver got), at most `timeoutMs`. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  await eventually(
    async () => check(),
    (held) => held,
    { what, timeoutMs, intervalMs: 10 },
  );
}
