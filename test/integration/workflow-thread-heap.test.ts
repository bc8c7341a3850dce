// veriflow_workflow_thread_heap_bytes reads the heap that holds a worker's cached verifications:
// the SDK's workflow thread, found through SDK internals (wiring/workflow-thread-heap.ts), with the
// limit the production heap guard (config/worker-heap.ts) assumes it has.
import { getHeapStatistics } from 'node:v8';
import { Registry } from 'prom-client';
import t from 'tap';
import { observeWorkflowThreadHeap, workflowThreads } from '../../wiring/workflow-thread-heap.ts';
import { eventually, startStack } from '../helpers/stack.ts';
import { collectGarbage, openIntoCache } from '../helpers/workflow-thread.ts';

const OPENED = 30;

t.test("the workflow thread's heap gauge sees the cached verifications, and no thread once the worker stops", async (t) => {
  const stack = await startStack(t, { worker: false, env: { WORKER_MAX_CACHED_WORKFLOWS: String(OPENED + 10) } });
  const worker = await stack.startWorker();
  const threads = workflowThreads(worker);
  t.equal(threads.length, 1, 'the SDK runs the workflows on one thread (reuseV8Context), and it is found');
  const registry = new Registry();
  observeWorkflowThreadHeap(registry, threads);
  const read = async () => {
    const { values } = await registry.getSingleMetric('veriflow_workflow_thread_heap_bytes')!.get();
    return Object.fromEntries(values.map(({ labels, value }) => [`${labels.thread}:${labels.kind}`, value]));
  };
  const live = async () => {
    await collectGarbage(threads[0]!);
    return (await read())['0:used']!;
  };

  // The first verification loads the workflow code into the thread; the growth after it is the cache's.
  await openIntoCache(stack, worker, { count: 1, cachedAfter: 1 });
  const before = await live();
  const heap = await read();
  t.equal(heap['0:limit'], getHeapStatistics().heap_size_limit, "the thread's limit is the process's, which the heap guard reads");
  t.ok(before > 2 ** 20 && before < heap['0:limit']!, `in use after a collection: ${(before / 2 ** 20).toFixed(1)} MB`);

  await openIntoCache(stack, worker, { count: OPENED, cachedAfter: 1 + OPENED });
  const after = await live();
  const perWorkflowKb = (after - before) / OPENED / 1024;
  // A cached verification keeps ~100 KB, 68 KB of it from creating the workflow
  // (bench/cached-workflow-heap.ts, bench/workflow-creation-cost.ts); the main thread's heap would
  // not grow by it, the workflow thread's must.
  t.ok(perWorkflowKb > 40, `${OPENED} more cached verifications hold ${perWorkflowKb.toFixed(0)} KB each of the thread's heap`);

  worker.shutdown();
  await eventually(
    async () => worker.getState(),
    (state) => state === 'STOPPED',
    { what: 'the worker to stop' },
  );
  t.same(await read(), {}, 'a stopped thread leaves no stale reading');
});
