// A thread's heap in use counts garbage until V8 collects it. A heap snapshot collects everything
// collectable first, so right after one the heap in use is what stays alive: how a test or the
// bench measures what cached verifications hold.
import type { WorkflowThread } from '../../wiring/workflow-thread-heap.ts';

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
