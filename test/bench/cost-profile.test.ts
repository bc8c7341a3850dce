import t from 'tap';
import type { Client } from '@temporalio/client';
import { serveStats } from '../../bench/child-stats.ts';
import { costPer, renderCostProfile, snapshotCost, type CostSnapshot, type CostSources } from '../../bench/cost-profile.ts';

const snapshot = (api: number, worker: number, pg: number, history: number, provider: number): CostSnapshot => ({
  cpuMs: { API: api, worker },
  cpuMsAfterReads: { API: api, worker },
  pgRoundTrips: pg,
  historyEvents: history,
  providerCalls: provider,
});

t.test('a batch costs the difference of its two snapshots divided by its size', async (t) => {
  const profile = costPer('applied webhook', snapshot(1000, 5000, 10, 0, 3), snapshot(1400, 8010, 810, 600, 103), 100);
  t.same(profile, {
    unit: 'applied webhook',
    count: 100,
    cpuMs: { API: 4, worker: 30.1 },
    pgRoundTrips: 8,
    historyEvents: 6,
    providerCalls: 1,
  });
});

t.test('the table has one row per batch, each with its CPU total', async (t) => {
  const webhook = costPer('applied webhook', snapshot(0, 0, 0, 0, 0), snapshot(400, 3000, 800, 600, 100), 100);
  const create = costPer('created verification', snapshot(0, 0, 0, 0, 0), snapshot(1000, 4000, 1500, 1400, 100), 100);
  const rows = renderCostProfile([webhook, create])
    .split('\n')
    .filter((line) => line.startsWith('| '));
  t.same(rows, [
    '| per | CPU ms API | CPU ms worker | CPU ms total | Postgres round trips | Temporal history events | provider API calls |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    '| applied webhook (100) | 4 | 30 | 34 | 8 | 6 | 1 |',
    '| created verification (100) | 10 | 40 | 50 | 15 | 14 | 1 |',
  ]);
});

t.test('what a snapshot does to read the history is not charged to the batch between two snapshots', async (t) => {
  const stats = await serveStats(() => ({ roundTrips: 0, requests: 0 }));
  t.teardown(() => stats.server.close());
  const burnMs = 300;
  // Describing a workflow costs Temporal (and this process) CPU; here it costs this process 300 ms.
  const temporal = {
    workflow: {
      getHandle: () => ({
        describe: async () => {
          const until = performance.now() + burnMs;
          while (performance.now() < until);
          return { historyLength: 13 };
        },
      }),
    },
  } as unknown as Client;
  const sources: CostSources = {
    processes: { self: async () => [process.pid] },
    pgStatsUrl: stats.url,
    sandboxStatsUrl: stats.url,
    temporal,
    workflowIds: ['verification-1'],
  };
  const profile = costPer('applied webhook', await snapshotCost(sources), await snapshotCost(sources), 1);
  // Nothing ran between the snapshots but the snapshots themselves (and 10 ms ticks of rounding).
  t.ok(profile.cpuMs.self! < burnMs / 2, `charged ${profile.cpuMs.self} ms, the snapshots' own work excluded`);
  t.equal(profile.historyEvents, 0);
});
