import t from 'tap';
import { judgeGoals, renderGoals, type GoalInputs } from '../../bench/goals.ts';
import type { CostProfile } from '../../bench/cost-profile.ts';
import type { LoadResult } from '../../bench/stats.ts';

const load = (offered: number | null, achievedPerSecond: number, p99: number, errors = 0): LoadResult => ({
  offered,
  achievedPerSecond,
  errors,
  sent: achievedPerSecond * 10,
  count: achievedPerSecond * 10,
  p50: p99 / 4,
  p95: p99 / 2,
  p99,
  max: p99 * 2,
});

const run = (over: Partial<GoalInputs> = {}): GoalInputs => ({
  intake: { persona: [load(50, 50, 20), load(100, 100, 60), load(200, 199, 150)] },
  limits: { intakeVsSignalWithStart: 0.6, signalWithStart: load(null, 500, 40) },
  create: load(null, 120, 45),
  scale: { open: 10_000, withSession: 10_000, workerPeakRssMb: 470, burst: { webhooks: 1000, applied: 1000, allAppliedSeconds: 5.9 } },
  ...over,
});

const verdicts = (inputs: GoalInputs) => Object.fromEntries(judgeGoals(inputs).map((g) => [g.measure, g.met]));

t.test('a run that reaches every goal is judged met on every row', async (t) => {
  const rows = judgeGoals(run());
  t.equal(rows.length, 7);
  t.same(
    rows.filter((g) => g.met !== true).map((g) => g.measure),
    [],
  );
});

t.test('each goal is missed on its own threshold', async (t) => {
  t.equal(
    verdicts(run({ limits: { intakeVsSignalWithStart: 0.49, signalWithStart: load(null, 500, 40) } }))[
      'intake closed loop / raw signalWithStart'
    ],
    false,
  );
  t.equal(
    verdicts(run({ intake: { persona: [load(50, 50, 50), load(100, 100, 60), load(200, 199, 150)] } }))['Persona ack at 50/s'],
    false,
  );
  t.equal(
    verdicts(run({ intake: { persona: [load(50, 50, 20), load(100, 100, 100), load(200, 199, 150)] } }))['Persona ack at 100/s'],
    false,
  );
  // 200/s: a shortfall in rate or a single error is a miss, latency is not judged there.
  t.equal(
    verdicts(run({ intake: { persona: [load(50, 50, 20), load(100, 100, 60), load(200, 190, 150)] } }))['Persona ack at 200/s'],
    false,
  );
  t.equal(
    verdicts(run({ intake: { persona: [load(50, 50, 20), load(100, 100, 60), load(200, 199, 150, 1)] } }))['Persona ack at 200/s'],
    false,
  );
  t.equal(
    verdicts(run({ intake: { persona: [load(50, 50, 20), load(100, 100, 60), load(200, 199, 4000)] } }))['Persona ack at 200/s'],
    true,
  );
  t.equal(verdicts(run({ create: load(null, 120, 50) }))['create ×8'], false);
});

t.test("the create row shows its floor when the run measured it, and is judged on the full stack's p99 alone", async (t) => {
  const createRow = (inputs: GoalInputs) => judgeGoals(inputs).find((g) => g.measure === 'create ×8')!;
  t.notMatch(createRow(run()).now, /worker stopped/);
  const floor = { workerStopped: load(null, 300, 21), rawStart: load(null, 600, 12) };
  const row = createRow(run({ create: load(null, 56, 372), createFloor: floor }));
  t.match(row.now, 'p99 372 ms (worker stopped: p99 21 ms; raw workflow.start: p99 12 ms)');
  t.equal(row.met, false, 'a floor under the goal does not make the goal met');
});

t.test('the burst is judged against three times what raw signalWithStart needs for as many webhooks', async (t) => {
  // 1000 at 500/s raw is 2 s, so the bound is 6 s.
  const burst = (allAppliedSeconds: number, applied = 1000) =>
    run({ scale: { open: 10, withSession: 10, workerPeakRssMb: 100, burst: { webhooks: 1000, applied, allAppliedSeconds } } });
  t.equal(verdicts(burst(6))['burst of 1000 webhooks'], true);
  t.equal(verdicts(burst(6.01))['burst of 1000 webhooks'], false);
  t.equal(verdicts(burst(1, 999))['burst of 1000 webhooks'], false, 'a webhook not applied is a miss however fast the rest');
  t.match(judgeGoals(burst(6)).find((g) => g.measure.startsWith('burst'))!.goal, /6 s/);
});

t.test('scale needs every session and a bounded worker', async (t) => {
  const scale = (withSession: number, workerPeakRssMb: number) =>
    run({ scale: { open: 10_000, withSession, workerPeakRssMb, burst: { webhooks: 1, applied: 1, allAppliedSeconds: 0 } } });
  t.equal(verdicts(scale(9_999, 300))['10000 open verifications'], false);
  t.equal(verdicts(scale(10_000, 513))['10000 open verifications'], false);
  t.equal(verdicts(scale(10_000, 512))['10000 open verifications'], true);
});

t.test('what a run left out is reported as not measured, not as met', async (t) => {
  const inputs = run({ intake: { persona: [load(50, 50, 20)] } });
  delete inputs.scale;
  const rows = judgeGoals(inputs);
  t.equal(rows.length, 5);
  t.equal(verdicts(inputs)['Persona ack at 100/s'], null);
  t.match(renderGoals(rows, 2), /\| Persona ack at 200\/s \| not run \| sustained without errors \| not measured \| – \|/);
  t.match(renderGoals(rows, 2), /\| Persona ack at 50\/s \| p50 5 ms, p99 20 ms \| p99 < 50 ms \| met \| – \|/);
});

t.test('a goal that is a rate of work says how many cores it needs at the cost the run measured', async (t) => {
  const cost = (unit: string, api: number, worker: number): CostProfile => ({
    unit,
    count: 200,
    cpuMs: { API: api, worker },
    pgRoundTrips: 8,
    historyEvents: 6,
    providerCalls: 1,
  });
  const inputs = run({ costProfile: [cost('applied webhook', 10, 50), cost('created verification', 20, 60)] });
  const needs = Object.fromEntries(judgeGoals(inputs).map((g) => [g.measure, g.needs]));
  // Eight in flight within 50 ms is 160 creates a second, at 80 ms each.
  t.equal(needs['create ×8'], '12.8 cores (160/s × 80 ms)');
  t.equal(needs['Persona ack at 50/s'], '3 cores (50/s × 60 ms)');
  t.equal(needs['Persona ack at 200/s'], '12 cores (200/s × 60 ms)');
  // 1000 webhooks within 3 × 2 s (raw signalWithStart at 500/s).
  t.equal(needs['burst of 1000 webhooks'], '10 cores (166.7/s × 60 ms)');
  t.equal(needs['intake closed loop / raw signalWithStart'], undefined, 'a ratio is no rate of work');
  t.match(renderGoals(judgeGoals(inputs), 2), /\| verdict \| CPU the goal's rate needs \(this machine: 2 cores\) \|/);
  t.match(
    renderGoals(judgeGoals(inputs), 2),
    /\| create ×8 \| p50 11.25 ms, p99 45 ms \| p99 < 50 ms \| met \| 12.8 cores \(160\/s × 80 ms\) \|/,
  );
});
