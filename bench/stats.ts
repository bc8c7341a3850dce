export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles in milliseconds, rounded to 0.1 ms. */
export function summarize(samples: number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
  const round = (n: number) => Math.round(n * 10) / 10;
  return { count: sorted.length, p50: round(at(50)), p95: round(at(95)), p99: round(at(99)), max: round(sorted.at(-1) ?? 0) };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface LoadResult extends LatencySummary {
  offered: number | null;
  sent: number;
  errors: number;
  achievedPerSecond: number;
}

/**
 * Open loop: request i is due at start + i/rate whatever happened to earlier ones, and its
 * latency counts from when it was due, so a slow server cannot hide its queueing
 * (no coordinated omission).
 */
export async function openLoop(rate: number, durationMs: number, send: (i: number) => Promise<boolean>): Promise<LoadResult> {
  const total = Math.round((rate * durationMs) / 1000);
  const latencies: number[] = [];
  let errors = 0;
  const inflight: Promise<void>[] = [];
  const start = performance.now() + 20;
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0.5) await sleep(wait);
    inflight.push(
      send(i).then(
        (ok) => {
          latencies.push(performance.now() - due);
          if (!ok) errors += 1;
        },
        () => {
          errors += 1;
        },
      ),
    );
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - start) / 1000;
  return { offered: rate, sent: total, errors, achievedPerSecond: Math.round((total - errors) / elapsed), ...summarize(latencies) };
}

/** Closed loop: `concurrency` callers back to back for `durationMs`; the rate is what the server sustains. */
export async function closedLoop(concurrency: number, durationMs: number, send: (i: number) => Promise<boolean>): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const start = performance.now();
  const deadline = start + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const i = next++;
        const began = performance.now();
        const ok = await send(i).catch(() => false);
        latencies.push(performance.now() - began);
        if (!ok) errors += 1;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  return { offered: null, sent: next, errors, achievedPerSecond: Math.round((next - errors) / elapsed), ...summarize(latencies) };
}
