// A worker's workflow cache lives in the heap of the SDK's workflow thread, which Node gives the
// same limit as every other thread (--max-old-space-size). A cache that heap cannot hold does not
// fail at start: it fails once enough verifications are cached, the workflow thread out of heap
// and the worker down with it. So the two are checked against each other when the worker starts.
import { getHeapStatistics } from 'node:v8';

/**
 * README "Worker memory": bench/cached-workflow-heap.ts measured ~280 KB kept alive per cached
 * verification that loaded the tracing interceptors (~100 KB one that did not) and ~30 MB besides;
 * 400 KB and 60 MB keep the live heap near two thirds of the limit at the largest cache allowed,
 * traced or not, where collections still free room instead of running back to back.
 */
const HEAP_KB_PER_CACHED_WORKFLOW = 400;
const WORKFLOW_THREAD_BASE_HEAP_KB = 60 * 1024;

/** This process's heap limit per thread, in MB (old space and young space together). */
export function heapLimitMb(): number {
  return Math.floor(getHeapStatistics().heap_size_limit / 2 ** 20);
}

/** Why the workflow cache cannot fit the heap limit, saying what to change; null when it fits. */
export function workflowCacheHeapProblem(maxCachedWorkflows: number, limitMb: number): string | null {
  const needsMb = Math.ceil((maxCachedWorkflows * HEAP_KB_PER_CACHED_WORKFLOW + WORKFLOW_THREAD_BASE_HEAP_KB) / 1024);
  if (needsMb <= limitMb) return null;
  const fits = Math.max(0, Math.floor((limitMb * 1024 - WORKFLOW_THREAD_BASE_HEAP_KB) / HEAP_KB_PER_CACHED_WORKFLOW));
  return (
    `WORKER_MAX_CACHED_WORKFLOWS: ${maxCachedWorkflows} cached verifications need about ${needsMb} MB of heap per workflow thread; ` +
    `this worker's limit is ${limitMb} MB (--max-old-space-size). Raise the limit to at least ${needsMb} MB, or lower WORKER_MAX_CACHED_WORKFLOWS to ${fits}.`
  );
}
