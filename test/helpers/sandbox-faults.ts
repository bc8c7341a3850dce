// Fault injection in the provider sandbox (sandbox/faults.ts): queue answers for requests whose
// path matches, and see how many are still queued.
import type { Stack } from './stack.ts';

export async function injectFaults(stack: Stack, path: string, faults: unknown[]): Promise<void> {
  const res = await fetch(`${stack.sandboxUrl}/_faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ path, faults }),
  });
  if (res.status !== 201) throw new Error(`fault injection answered ${res.status}`);
  await res.text();
}

/** The faults still queued, over every path. */
export async function remainingFaults(stack: Stack): Promise<unknown[]> {
  const queues = (await (await fetch(`${stack.sandboxUrl}/_faults`)).json()) as { remaining: unknown[] }[];
  return queues.flatMap((q) => q.remaining);
}
