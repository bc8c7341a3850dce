// A worker's cached verifications live in the heap of the SDK's workflow thread, not in the main
// thread's that prom-client's default metrics report, and that heap has a limit of its own: the
// cache outgrowing it stops the worker. The SDK keeps its threads to itself, so this reaches its
// internals (Worker.workflowCreator.workerThreadClients[].workerThread in @temporalio/worker 1.24,
// the version patches/ pins). An upgrade that moves them leaves the series out, and
// test/infra/alerts.test.ts and test/integration/workflow-thread-heap.test.ts fail.
import type { Worker as NodeWorker } from 'node:worker_threads';
import type { Worker } from '@temporalio/worker';
import { Gauge, type Registry } from 'prom-client';

interface HeapStatistics {
  used_heap_size: number;
  heap_size_limit: number;
}

/** A workflow thread as Node 22.16+ and 24 give it (@types/node 20 lacks getHeapStatistics). */
export type WorkflowThread = NodeWorker & { getHeapStatistics?: () => Promise<HeapStatistics> };

interface WorkflowCreatorInternals {
  workerThreadClients?: { workerThread?: NodeWorker }[];
}

/** The threads running this worker's workflows (one with the SDK's default reuseV8Context). */
export function workflowThreads(worker: Worker): WorkflowThread[] {
  const creator = (worker as unknown as { workflowCreator?: WorkflowCreatorInternals }).workflowCreator;
  return (creator?.workerThreadClients ?? []).flatMap((client) => (client.workerThread ? [client.workerThread as WorkflowThread] : []));
}

/** Heap in use and its limit, per workflow thread, read at each scrape; a thread that has stopped has none. */
export function observeWorkflowThreadHeap(registry: Registry, threads: WorkflowThread[]): void {
  new Gauge({
    name: 'veriflow_workflow_thread_heap_bytes',
    help: "V8 heap of the SDK's workflow threads, where the worker's cached verifications live: used (garbage included until the next collection) and limit (--max-old-space-size plus the young generation). The main thread's heap is veriflow_nodejs_heap_size_*.",
    labelNames: ['thread', 'kind'] as const,
    registers: [registry],
    async collect() {
      const readings = await Promise.all(threads.map((thread) => thread.getHeapStatistics?.().catch(() => null) ?? null));
      this.reset();
      readings.forEach((stats, index) => {
        if (!stats) return;
        this.set({ thread: String(index), kind: 'used' }, stats.used_heap_size);
        this.set({ thread: String(index), kind: 'limit' }, stats.heap_size_limit);
      });
    },
  });
}
