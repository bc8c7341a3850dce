// What a cached verification holds in the worker's workflow thread: the heap that stays alive
// (measured right after a full collection) as the sticky cache fills with open verifications,
// each with its session opened and waiting for the user. The slope is what the heap guard
// (config/worker-heap.ts) and README "Worker memory" size the cache by. A real worker on a real
// Temporal dev server and Postgres, in a process of its own.
// `node bench/cached-workflow-heap.ts` runs it alone; `npm run bench` includes it.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { workflowThreads } from '../wiring/workflow-thread-heap.ts';
import { startStack } from '../test/helpers/stack.ts';
import { liveHeapBytes, openIntoCache } from '../test/helpers/workflow-thread.ts';
import { measureInChild } from './child-measurement.ts';

const STEP = Number(process.env.BENCH_CACHED_HEAP_STEP ?? 100);
const STEPS = 3;
const CONCURRENCY = 10;

export interface CachedWorkflowHeap {
  /** Cached verifications, and the workflow thread's live heap with them, in MB. */
  points: { cached: number; liveMb: number }[];
  /** Least-squares slope over the points. */
  kbPerCachedWorkflow: number;
}

async function measureHere(): Promise<CachedWorkflowHeap> {
  const teardowns: (() => unknown)[] = [];
  try {
    const t = { teardown: (fn: () => unknown) => void teardowns.push(fn) } as Parameters<typeof startStack>[0];
    const stack = await startStack(t, { env: { WORKER_MAX_CACHED_WORKFLOWS: String(STEP * STEPS + 10) } });
    const worker = stack.worker!;
    const [thread] = workflowThreads(worker);
    if (!thread) throw new Error('no workflow thread found in the SDK worker');
    // The first verification loads the workflow code into the thread: the base the cache adds to.
    await openIntoCache(stack, worker, { count: 1, cachedAfter: 1 });
    const points = [{ cached: 1, liveMb: (await liveHeapBytes(thread)) / 2 ** 20 }];
    for (let step = 1; step <= STEPS; step++) {
      const cached = 1 + step * STEP;
      await openIntoCache(stack, worker, { count: STEP, cachedAfter: cached, concurrency: CONCURRENCY });
      points.push({ cached, liveMb: (await liveHeapBytes(thread)) / 2 ** 20 });
    }
    return {
      points: points.map((p) => ({ cached: p.cached, liveMb: round(p.liveMb, 1) })),
      kbPerCachedWorkflow: Math.round(slope(points) * 1024),
    };
  } finally {
    for (const teardown of teardowns.reverse()) await teardown();
  }
}

function slope(points: { cached: number; liveMb: number }[]): number {
  const n = points.length;
  const meanX = points.reduce((s, p) => s + p.cached, 0) / n;
  const meanY = points.reduce((s, p) => s + p.liveMb, 0) / n;
  const covariance = points.reduce((s, p) => s + (p.cached - meanX) * (p.liveMb - meanY), 0);
  const variance = points.reduce((s, p) => s + (p.cached - meanX) ** 2, 0);
  return covariance / variance;
}

function round(value: number, digits: number): number {
  return Math.round(value * 10 ** digits) / 10 ** digits;
}

export function measureCachedWorkflowHeap(): Promise<CachedWorkflowHeap> {
  return measureInChild<CachedWorkflowHeap>(fileURLToPath(import.meta.url));
}

export function renderCachedWorkflowHeap(heap: CachedWorkflowHeap): string {
  return [
    "| cached verifications (session open) | workflow thread's live heap, MB |",
    '| --- | --- |',
    ...heap.points.map((p) => `| ${p.cached} | ${p.liveMb} |`),
    `| each one more | ${heap.kbPerCachedWorkflow} KB |`,
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv.includes('--child')) {
    process.stdout.write(`${JSON.stringify(await measureHere())}\n`);
    process.exit(0);
  }
  process.stdout.write(renderCachedWorkflowHeap(await measureCachedWorkflowHeap()) + '\n');
}
