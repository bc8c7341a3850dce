// Node's vm `timeout` starts and joins a watchdog thread on every call that carries it
// (nodejs/node#47739), about half of a workflow thread's CPU when every call into a workflow
// carries one. patches/@temporalio+worker+1.24.0.patch bounds a whole activation with one deadline
// instead; the deadlock detection it keeps is asserted in test/integration/workflow-deadlock.test.ts.
import { createRequire } from 'node:module';
import vm from 'node:vm';
import { Worker } from '@temporalio/worker';
import t from 'tap';
import { loadRecordedHistories, replayWorkerOptions } from '../helpers/recorded-histories.ts';

const require = createRequire(import.meta.url);
const { BaseVMWorkflow } = require('@temporalio/worker/lib/workflow/vm-shared.js') as {
  BaseVMWorkflow: { prototype: { activate(...args: unknown[]): unknown } };
};

t.test('replaying the recorded histories starts one vm watchdog per activation, not one per call into the workflow', async (t) => {
  const histories = await loadRecordedHistories();
  const options = await replayWorkerOptions();
  const counts = { activations: 0, timedCalls: 0, untimedCalls: 0 };
  const { runInContext } = vm.Script.prototype;
  const { activate } = BaseVMWorkflow.prototype;
  vm.Script.prototype.runInContext = function (this: vm.Script, context, opts) {
    if (opts?.timeout === undefined) counts.untimedCalls++;
    else counts.timedCalls++;
    return runInContext.call(this, context, opts);
  };
  BaseVMWorkflow.prototype.activate = function (this: unknown, ...args: unknown[]) {
    counts.activations++;
    return activate.apply(this, args);
  };
  t.teardown(() => {
    vm.Script.prototype.runInContext = runInContext;
    BaseVMWorkflow.prototype.activate = activate;
  });

  for await (const result of Worker.runReplayHistories(options, histories))
    t.equal(result.error, undefined, `${result.workflowId} replays`);

  t.ok(counts.activations > histories.length, `${counts.activations} activations`);
  // Besides the activations: the context's set-up, and each workflow's creation and disposal.
  const besides = 4 + 2 * histories.length;
  t.ok(
    counts.timedCalls <= counts.activations + besides,
    `${counts.timedCalls} timed calls for ${counts.activations} activations (at most ${counts.activations + besides})`,
  );
  t.ok(counts.untimedCalls >= 2 * counts.activations, `${counts.untimedCalls} calls inside an activation's deadline`);
});
