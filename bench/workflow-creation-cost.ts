// What creating one workflow costs the worker's workflow thread: heap kept and CPU spent when the
// SDK's reusable V8 context sets up a verification (its modules, the tracing interceptors),
// before any activation. Paid for every new verification and for every evicted one replayed from
// its history. Measured with the bundle as the worker builds it (workflows/shared-modules.ts
// loaded once per thread) and without the shared modules, each in a process of its own.
// `node bench/workflow-creation-cost.ts` runs it alone; `npm run bench` includes it.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { reusableContext } from '../test/helpers/reusable-context.ts';
import { cachedWorkflowBundle } from '../test/helpers/workflow-bundle-cache.ts';
import { workflowBundleOptions } from '../wiring/worker-root.ts';
import { measureInChild } from './child-measurement.ts';

const WORKFLOWS = Number(process.env.BENCH_CREATION_WORKFLOWS ?? 300);
const WARM_UP = 20;

export interface CreationCost {
  sharedModules: 'on' | 'off';
  workflows: number;
  heapKbPerWorkflow: number;
  cpuMsPerWorkflow: number;
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** In this process (run with --expose-gc): WORKFLOWS workflows created and kept, as the sticky cache keeps them. */
async function measureHere(sharedModules: boolean): Promise<Omit<CreationCost, 'sharedModules'>> {
  const { preloadModules, ...withoutShared } = workflowBundleOptions('ERROR');
  const { code } = await cachedWorkflowBundle(sharedModules ? { ...withoutShared, preloadModules } : withoutShared);
  const creator = await reusableContext(code);
  const kept: unknown[] = [];
  const create = async (i: number) => {
    const runId = `run-${i}`;
    const info = {
      workflowType: 'verification',
      workflowId: `verification-${i}`,
      runId,
      firstExecutionRunId: runId,
      taskQueue: 'bench',
      namespace: 'default',
      attempt: 1,
      taskTimeoutMs: 10_000,
      startTime: new Date(),
      runStartTime: new Date(),
      historyLength: 3,
      historySize: 1000,
      continueAsNewSuggested: false,
      searchAttributes: {},
      typedSearchAttributes: [],
      memo: {},
      priority: {},
      unsafe: { isReplaying: false, now: Date.now },
    };
    kept.push(await creator.createWorkflow({ info, randomnessSeed: [i], now: Date.now(), showStackTraceSources: false }));
  };
  for (let i = 0; i < WARM_UP; i++) await create(i);
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const cpuBefore = process.cpuUsage();
  for (let i = WARM_UP; i < WARM_UP + WORKFLOWS; i++) await create(i);
  const cpu = process.cpuUsage(cpuBefore);
  gc();
  const heapKbPerWorkflow = Math.round((process.memoryUsage().heapUsed - heapBefore) / WORKFLOWS / 1024);
  return {
    workflows: kept.length - WARM_UP,
    heapKbPerWorkflow,
    cpuMsPerWorkflow: Math.round(((cpu.user + cpu.system) / 1000 / WORKFLOWS) * 100) / 100,
  };
}

/** With and without the shared modules, each in a fresh process (the SDK installs its hooks once per thread). */
export async function measureCreationCost(): Promise<CreationCost[]> {
  const costs: CreationCost[] = [];
  for (const sharedModules of ['on', 'off'] as const) {
    const measured = await measureInChild<Omit<CreationCost, 'sharedModules'>>(fileURLToPath(import.meta.url), {
      nodeArgs: ['--expose-gc'],
      childArgs: [sharedModules],
    });
    costs.push({ sharedModules, ...measured });
  }
  return costs;
}

export function renderCreationCost(costs: CreationCost[]): string {
  return [
    '| shared modules (workflows/shared-modules.ts) | workflows created | heap KB per workflow | CPU ms per workflow |',
    '| --- | --- | --- | --- |',
    ...costs.map((c) => `| ${c.sharedModules} | ${c.workflows} | ${c.heapKbPerWorkflow} | ${c.cpuMsPerWorkflow} |`),
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const child = process.argv.indexOf('--child');
  if (child >= 0) {
    process.stdout.write(`${JSON.stringify(await measureHere(process.argv[child + 1] === 'on'))}\n`);
    // The workflows are kept on purpose, and the SDK's hooks with them: nothing left to wait for.
    process.exit(0);
  }
  process.stdout.write(renderCreationCost(await measureCreationCost()) + '\n');
}
