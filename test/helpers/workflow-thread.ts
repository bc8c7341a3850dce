// A thread's heap in use counts garbage until V8 collects it. A heap snapshot collects everything
// collectable first, so right after one the heap in use is what stays alive: how a test or the
// bench measures what cached verifications hold.
import type { Worker } from '@temporalio/worker';
import type { WorkflowThread } from '../../wiring/workflow-thread-heap.ts';
import { eventually, type Stack } from './stack.ts';

/** Makes the thread run a full collection (by taking a heap snapshot and discarding it). */
export async function collectGarbage(thread: WorkflowThread): Promise<void> {
  const snapshot = await thread.getHeapSnapshot();
  for await (const _chunk of snapshot);
}

/** The heap the thread's live objects hold, in bytes. */
export async function liveHeapBytes(thread: WorkflowThread): Promise<number> {
  if (!thread.getHeapStatistics) throw new Error(`Node ${process.version} cannot read a worker thread's heap (22.16+ or 24 can)`);
  await collectGarbage(thread);
  return (await thread.getHeapStatistics()).used_heap_size;
}

/**
 * Opens `count` more Persona verifications (at most `concurrency` at a time), each up to its
 * session, and waits until the worker's sticky cache holds all `cachedAfter` of them: open
 * verifications waiting for their users, as the cache mostly holds them.
 */
export async function openIntoCache(
  stack: Pick<Stack, 'request'>,
  worker: Worker,
  { count, cachedAfter, concurrency = count }: { count: number; cachedAfter: number; concurrency?: number },
): Promise<void> {
  let started = 0;
  await Promise.all(
    Array.from({ length: Math.min(count, concurrency) }, async () => {
      while (started < count) {
        started++;
        const created = await stack.request('POST', '/v1/verifications', { provider: 'persona' });
        const id = created.body.id as string;
        await eventually(
          () => stack.request('GET', `/v1/verifications/${id}`),
          (r) => r.body.providerRef !== null,
          { timeoutMs: 120_000, what: `the session of ${id}` },
        );
      }
    }),
  );
  await eventually(
    async () => worker.getStatus().numCachedWorkflows,
    (n) => n === cachedAfter,
    { what: `${cachedAfter} cached`, timeoutMs: 60_000 },
  );
}
