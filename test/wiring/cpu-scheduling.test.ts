import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { runThreadsAsBatch } from '../../wiring/cpu-scheduling.ts';

const run = promisify(execFile);
const SCHED_OTHER = 0;
const SCHED_BATCH = 3;

// A process with a thread started before the call and one after it reports every thread's policy
// (/proc/self/task/*/stat, field 41), before and after.
const probeSource = (call: string) => `
import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { runThreadsAsBatch } from ${JSON.stringify(new URL('../../wiring/cpu-scheduling.ts', import.meta.url).href)};
const policies = () => readdirSync('/proc/self/task').map((tid) => {
  const stat = readFileSync('/proc/self/task/' + tid + '/stat', 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]);
});
const idle = () => new Worker('setInterval(() => {}, 1000)', { eval: true });
const threads = [idle()];
await new Promise((resolve) => threads[0].once('online', resolve));
const before = policies();
const problem = ${call};
threads.push(idle());
await new Promise((resolve) => threads[1].once('online', resolve));
console.log(JSON.stringify({ problem, before, after: policies() }));
process.exit(0);
`;

async function probe(call: string): Promise<{ problem: string | null; before: number[]; after: number[] }> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probeSource(call)]);
  return JSON.parse(stdout) as { problem: string | null; before: number[]; after: number[] };
}

t.test('every thread, those started earlier and later alike, runs under SCHED_BATCH', async (t) => {
  const { problem, before, after } = await probe('await runThreadsAsBatch()');
  t.equal(problem, null);
  t.ok(
    before.every((policy) => policy === SCHED_OTHER),
    `before: the default policy (${before.join(',')})`,
  );
  t.ok(after.length > before.length, `a thread was started after the call (${before.length} → ${after.length} threads)`);
  t.same(new Set(after), new Set([SCHED_BATCH]), `after: all ${after.length} threads SCHED_BATCH`);
});

t.test('left alone, the threads keep the default policy (the probe can tell)', async (t) => {
  const { after } = await probe('null');
  t.same(new Set(after), new Set([SCHED_OTHER]));
});

t.test('says why it could not', async (t) => {
  t.match(await runThreadsAsBatch({ platform: 'darwin' }), /Linux policy and this is darwin/);
  t.match(await runThreadsAsBatch({ pid: 2 ** 22 + 1 }), /^chrt could not set it: /);
});
