// Replays recorded histories (test/fixtures/histories, made by record-histories.ts) against the
// current workflow code: a change that would break running verifications fails here as
// non-determinism instead of in production.
import { Worker } from '@temporalio/worker';
import t from 'tap';
import { loadRecordedHistories, replayWorkerOptions } from '../helpers/recorded-histories.ts';

t.test('recorded workflow histories replay deterministically', async (t) => {
  const histories = await loadRecordedHistories();
  t.ok(histories.length >= 8, `${histories.length} recorded histories`);
  const replayed: string[] = [];
  for await (const result of Worker.runReplayHistories(await replayWorkerOptions(), histories)) {
    t.equal(result.error, undefined, `${result.workflowId} replays`, result.error ? { error: String(result.error) } : {});
    replayed.push(result.workflowId);
  }
  t.same(replayed.sort(), histories.map((h) => h.workflowId).sort(), 'every history was replayed');
});
