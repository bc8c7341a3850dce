// Issue 17's goals, judged against one bench run: each row says what the run measured, what the
// goal is and whether it was met, so a reader of `npm run bench` does not have to do the
// arithmetic (ratios are taken within the run: absolute figures move with the machine). Where a
// goal is a rate of work, the row also says how much CPU that rate needs at the cost the run's
// cost profile measured, against the cores the machine has: a goal a faster code path could
// reach reads differently from one the machine cannot carry.
import { totalCpuMs, type CostProfile } from './cost-profile.ts';
import type { LatencySummary, LoadResult } from './stats.ts';

export interface GoalInputs {
  intake: { persona: LoadResult[] };
  limits: { intakeVsSignalWithStart: number; signalWithStart: LoadResult };
  create: LatencySummary;
  /** The same creates with the worker stopped, and raw `workflow.start` calls (bench/run.ts createFloor). */
  createFloor?: { workerStopped: LatencySummary; rawStart: LatencySummary };
  scale?: {
    open: number;
    withSession: number;
    workerPeakRssMb: number;
    burst: { webhooks: number; applied: number; allAppliedSeconds: number };
  };
  /** The cost profile's rows ('applied webhook', 'created verification'); without it no row says what it needs. */
  costProfile?: readonly CostProfile[];
}

export interface GoalRow {
  measure: string;
  now: string;
  goal: string;
  /** null: the run did not measure it (e.g. a rate left out of BENCH_RATES). */
  met: boolean | null;
  /** The CPU the goal's rate of work needs at the measured cost per unit, e.g. '3.1 cores (50/s × 61.2 ms)'. */
  needs?: string;
}

/** A rate counts as sustained when at least this share of what was offered was acknowledged, without errors. */
const SUSTAINED_SHARE = 0.98;
const WORKER_RSS_GOAL_MB = 512;

/** Milliseconds of CPU (all processes) one unit of work cost in the run's cost profile. */
function cpuMsPer(r: GoalInputs, unit: string): number | null {
  const profile = r.costProfile?.find((p) => p.unit === unit);
  return profile ? totalCpuMs(profile) : null;
}

/** Cores a rate of work needs at the measured cost of each unit. */
function coresFor(r: GoalInputs, unit: string, perSecond: number): string | undefined {
  const ms = cpuMsPer(r, unit);
  return ms === null ? undefined : `${round1((perSecond * ms) / 1000)} cores (${round1(perSecond)}/s × ${round1(ms)} ms)`;
}

/** Eight creates in flight answered within 50 ms is Little's law's 160 a second, each of which opens a session. */
export const CREATE_CONCURRENCY = 8;
const CREATE_P99_GOAL_MS = 50;

export function judgeGoals(r: GoalInputs): GoalRow[] {
  const ackAt = (rate: number) => r.intake.persona.find((x) => x.offered === rate);
  const ackP99 = (rate: number, goalMs: number): GoalRow => {
    const x = ackAt(rate);
    return {
      measure: `Persona ack at ${rate}/s`,
      now: x ? `p50 ${x.p50} ms, p99 ${x.p99} ms` : 'not run',
      goal: `p99 < ${goalMs} ms`,
      met: x ? x.p99 < goalMs && x.errors === 0 : null,
      // An acknowledged webhook is applied later: keeping up with the rate is what the machine carries beside the acks.
      needs: coresFor(r, 'applied webhook', rate),
    };
  };
  const at200 = ackAt(200);
  const rows: GoalRow[] = [
    {
      measure: 'intake closed loop / raw signalWithStart',
      now: String(r.limits.intakeVsSignalWithStart),
      goal: '≥ 0.5',
      met: r.limits.intakeVsSignalWithStart >= 0.5,
    },
    ackP99(50, 50),
    ackP99(100, 100),
    {
      measure: 'Persona ack at 200/s',
      now: at200 ? `${at200.achievedPerSecond}/s achieved, ${at200.errors} errors, p99 ${at200.p99} ms` : 'not run',
      goal: 'sustained without errors',
      met: at200 ? at200.errors === 0 && at200.achievedPerSecond >= SUSTAINED_SHARE * 200 : null,
      needs: coresFor(r, 'applied webhook', 200),
    },
    {
      measure: `create ×${CREATE_CONCURRENCY}`,
      now:
        `p50 ${r.create.p50} ms, p99 ${r.create.p99} ms` +
        (r.createFloor
          ? ` (worker stopped: p99 ${r.createFloor.workerStopped.p99} ms; raw workflow.start: p99 ${r.createFloor.rawStart.p99} ms)`
          : ''),
      goal: `p99 < ${CREATE_P99_GOAL_MS} ms`,
      met: r.create.p99 < CREATE_P99_GOAL_MS,
      needs: coresFor(r, 'created verification', (CREATE_CONCURRENCY * 1000) / CREATE_P99_GOAL_MS),
    },
  ];
  const s = r.scale;
  if (!s) return rows;
  // What raw signalWithStart needs for as many webhooks, at the rate it reached in this run.
  const rawSeconds = s.burst.webhooks / r.limits.signalWithStart.achievedPerSecond;
  rows.push(
    {
      measure: `burst of ${s.burst.webhooks} webhooks`,
      now: `${s.burst.applied} applied in ${s.burst.allAppliedSeconds} s (raw signalWithStart: ${round1(rawSeconds)} s)`,
      goal: `applied within 3× raw (${round1(3 * rawSeconds)} s)`,
      met: s.burst.applied === s.burst.webhooks && s.burst.allAppliedSeconds <= 3 * rawSeconds,
      needs: coresFor(r, 'applied webhook', s.burst.webhooks / (3 * rawSeconds)),
    },
    {
      measure: `${s.open} open verifications`,
      now: `${s.withSession} with a session; worker peak RSS ${s.workerPeakRssMb} MB`,
      goal: `all sessions; worker RSS ≤ ${WORKER_RSS_GOAL_MB} MB`,
      met: s.withSession >= s.open && s.workerPeakRssMb <= WORKER_RSS_GOAL_MB,
    },
  );
  return rows;
}

export function renderGoals(rows: GoalRow[], cpus: number): string {
  const verdict = (met: boolean | null) => (met === null ? 'not measured' : met ? 'met' : 'missed');
  return [
    `| goal (issue 17) | this run | goal | verdict | CPU the goal's rate needs (this machine: ${cpus} cores) |`,
    '| --- | --- | --- | --- | --- |',
    ...rows.map((g) => `| ${g.measure} | ${g.now} | ${g.goal} | ${verdict(g.met)} | ${g.needs ?? '–'} |`),
  ].join('\n');
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
