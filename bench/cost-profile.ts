// What one applied webhook, or one verification created up to its provider session, costs the
// whole system: CPU milliseconds per process, Postgres round trips, Temporal history events and
// provider API calls, as the difference of two snapshots around a batch divided by its size.
import { readdir, readFile } from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import { readStats } from './child-stats.ts';

/** Linux reports process CPU time in clock ticks; USER_HZ is 100 on every mainstream kernel. */
const MS_PER_TICK = 10;

export interface CostSources {
  /** Processes to charge by name; a function, because Postgres backends come and go. */
  processes: Record<string, () => Promise<number[]>>;
  pgStatsUrl: string;
  sandboxStatsUrl: string;
  temporal: Client;
  workflowIds: readonly string[];
}

export interface CostSnapshot {
  /** CPU read as the snapshot starts, which is where a batch after it ends. */
  cpuMs: Record<string, number>;
  /**
   * CPU read again once the snapshot has read everything else, which is where a batch after it
   * starts: describing every workflow costs Temporal (and the bench) CPU that is no batch's.
   */
  cpuMsAfterReads: Record<string, number>;
  pgRoundTrips: number;
  providerCalls: number;
  historyEvents: number;
}

export interface CostProfile {
  /** What the batch was made of, e.g. 'applied webhook'. */
  unit: string;
  count: number;
  cpuMs: Record<string, number>;
  pgRoundTrips: number;
  providerCalls: number;
  historyEvents: number;
}

async function cpuMsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (stat === null) return 0;
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
}

/** Every live process whose command name is `name` (e.g. the Postgres server and its backends). */
export async function pidsNamed(name: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '');
    if (comm.trim() === name) pids.push(Number(entry));
  }
  return pids;
}

async function cpuMsOfEach(processes: CostSources['processes']): Promise<Record<string, number>> {
  const cpuMs: Record<string, number> = {};
  for (const [name, pids] of Object.entries(processes)) {
    let total = 0;
    for (const pid of await pids()) total += await cpuMsOf(pid);
    cpuMs[name] = total;
  }
  return cpuMs;
}

export async function snapshotCost(sources: CostSources): Promise<CostSnapshot> {
  const cpuMs = await cpuMsOfEach(sources.processes);
  const [pg, sandbox] = await Promise.all([
    readStats<{ roundTrips: number }>(sources.pgStatsUrl),
    readStats<{ requests: number }>(sources.sandboxStatsUrl),
  ]);
  let historyEvents = 0;
  for (const id of sources.workflowIds) historyEvents += Number((await sources.temporal.workflow.getHandle(id).describe()).historyLength);
  const cpuMsAfterReads = await cpuMsOfEach(sources.processes);
  return { cpuMs, cpuMsAfterReads, pgRoundTrips: pg.roundTrips, providerCalls: sandbox.requests, historyEvents };
}

export function costPer(unit: string, before: CostSnapshot, after: CostSnapshot, count: number): CostProfile {
  const per = (a: number, b: number) => Math.round(((b - a) / count) * 100) / 100;
  return {
    unit,
    count,
    cpuMs: Object.fromEntries(Object.keys(after.cpuMs).map((name) => [name, per(before.cpuMsAfterReads[name] ?? 0, after.cpuMs[name]!)])),
    pgRoundTrips: per(before.pgRoundTrips, after.pgRoundTrips),
    providerCalls: per(before.providerCalls, after.providerCalls),
    historyEvents: per(before.historyEvents, after.historyEvents),
  };
}

/** CPU milliseconds of every charged process together, per unit. */
export function totalCpuMs(profile: CostProfile): number {
  return Object.values(profile.cpuMs).reduce((sum, ms) => sum + ms, 0);
}

/** One row per profile; every profile must charge the same processes. */
export function renderCostProfile(profiles: readonly CostProfile[]): string {
  const names = Object.keys(profiles[0]!.cpuMs);
  const totalCpu = (profile: CostProfile) => Math.round(totalCpuMs(profile) * 100) / 100;
  return [
    `### Cost per applied webhook and per created verification`,
    '',
    `| per | ${names.map((name) => `CPU ms ${name}`).join(' | ')} | CPU ms total | Postgres round trips | Temporal history events | provider API calls |`,
    `| --- | ${[...names, 'total', 'pg', 'history', 'provider'].map(() => '---').join(' | ')} |`,
    ...profiles.map(
      (profile) =>
        `| ${profile.unit} (${profile.count}) | ${names.map((name) => profile.cpuMs[name]).join(' | ')} | ${totalCpu(profile)} | ${profile.pgRoundTrips} | ${profile.historyEvents} | ${profile.providerCalls} |`,
    ),
    '',
    'Webhooks go one per verification with a live session; a created verification is counted up to its provider session (`Prefer: wait`, 20 at a time). CPU time is read from /proc (10 ms ticks) over the whole batch, so a figure below ~0.1 ms is noise; Postgres is every `postgres` process (server and backends), round trips are counted by a proxy in front of it (one per simple query or Sync).',
  ].join('\n');
}
