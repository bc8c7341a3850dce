// Workflow CPU per workflow task, with and without the SDK's per-promise stack capture
// (WORKFLOW_STACK_TRACES): the recorded histories (test/fixtures/histories) replayed many times in
// a process of their own per setting. No server and no activities, only the workflow code and the
// SDK's sandbox around it, so it isolates what the setting changes. `node bench/replay-cost.ts`
// runs it alone; `npm run bench` includes it.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from '@temporalio/worker';
import { loadRecordedHistories, replayWorkerOptions } from '../test/helpers/recorded-histories.ts';
import { measureInChild } from './child-measurement.ts';

const ROUNDS = Number(process.env.BENCH_REPLAY_ROUNDS ?? 20);

export interface ReplayCost {
  stackTraces: 'on' | 'off';
  workflowTasks: number;
  cpuMsPerWorkflowTask: number;
}

/** In this process: replays every recorded history ROUNDS times (after two warm-up rounds); process CPU per workflow task. */
async function replayHere(): Promise<Omit<ReplayCost, 'stackTraces'>> {
  const histories = await loadRecordedHistories();
  const tasksPerRound = histories.reduce(
    (sum, h) => sum + h.history.events.filter((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED').length,
    0,
  );
  const options = await replayWorkerOptions();
  const replay = async (rounds: number) => {
    const all = Array.from({ length: rounds }, (_, r) => histories.map((h) => ({ ...h, workflowId: `${h.workflowId}-${r}` }))).flat();
    for await (const result of Worker.runReplayHistories(options, all)) if (result.error) throw result.error;
  };
  await replay(2);
  const before = process.cpuUsage();
  await replay(ROUNDS);
  const cpu = process.cpuUsage(before);
  const workflowTasks = ROUNDS * tasksPerRound;
  return { workflowTasks, cpuMsPerWorkflowTask: Math.round(((cpu.user + cpu.system) / 1000 / workflowTasks) * 100) / 100 };
}

/** Both settings, each in a fresh process (the SDK installs its promise hook once per thread). */
export async function measureReplayCost(): Promise<ReplayCost[]> {
  const costs: ReplayCost[] = [];
  for (const stackTraces of ['on', 'off'] as const) {
    const measured = await measureInChild<Omit<ReplayCost, 'stackTraces'>>(fileURLToPath(import.meta.url), {
      env: { TEMPORAL_WORKFLOW_STACK_TRACES: stackTraces },
    });
    costs.push({ stackTraces, ...measured });
  }
  return costs;
}

export function renderReplayCost(costs: ReplayCost[]): string {
  const on = costs.find((c) => c.stackTraces === 'on');
  return [
    '| WORKFLOW_STACK_TRACES | workflow tasks replayed | CPU ms per workflow task | vs on |',
    '| --- | --- | --- | --- |',
    ...costs.map(
      (c) =>
        `| ${c.stackTraces} | ${c.workflowTasks} | ${c.cpuMsPerWorkflowTask} | ${on ? (c.cpuMsPerWorkflowTask / on.cpuMsPerWorkflowTask).toFixed(2) : '–'} |`,
    ),
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv.includes('--child')) process.stdout.write(`${JSON.stringify(await replayHere())}\n`);
  else process.stdout.write(renderReplayCost(await measureReplayCost()) + '\n');
}
