// Deadlock detection: workflow code that never yields is stopped at the worker's
// isolateExecutionTimeout, its workflow task fails with the reason, and the workflow thread it held
// serves other workflows again. patches/@temporalio+worker+1.24.0.patch moved the deadline from each
// call into the workflow to the whole activation (test/replay/activation-deadline.test.ts); this is
// the guarantee that move has to keep.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import t from 'tap';
import { eventually } from '../helpers/eventually.ts';
import { startTestTemporal } from '../helpers/temporal.ts';
import { cachedWorkflowBundle } from '../helpers/workflow-bundle-cache.ts';

t.test('a workflow that never yields fails its workflow task at the deadline, and its thread serves the next workflow', async (t) => {
  const temporal = await startTestTemporal(t);
  const connection = await NativeConnection.connect({ address: temporal.address });
  t.teardown(() => connection.close());
  // The SDK's own data converter on both sides: these fixtures carry no verification data.
  const client = new Client({ connection: temporal.connection, namespace: temporal.namespace });
  const taskQueue = `deadlock-${randomUUID()}`;
  const worker = await Worker.create({
    connection,
    namespace: temporal.namespace,
    taskQueue,
    workflowBundle: await cachedWorkflowBundle({
      workflowsPath: fileURLToPath(new URL('../fixtures/workflows/deadlock.ts', import.meta.url)),
    }),
    // The deadline (5 s by default): the SDK reads it, but 1.24 leaves it out of WorkerOptions' type.
    ...({ isolateExecutionTimeout: '1s' } as object),
    // One thread: the answering workflow can only run if the spinning one let go of it.
    workflowThreadPoolSize: 1,
  });

  await worker.runUntil(async () => {
    const spinning = await client.workflow.start('spinsAfterTimer', { taskQueue, workflowId: `spins-${randomUUID()}` });
    const failure = await eventually(
      async () => {
        const { events } = await spinning.fetchHistory();
        return events?.find((e) => e.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes?.failure?.message ?? null;
      },
      (message) => message !== null,
      { what: 'a failed workflow task in the spinning workflow', timeoutMs: 30_000 },
    );
    t.match(failure, /Script execution timed out after 1000ms/, 'the workflow task failed at the deadline, with the reason');

    const answer = await client.workflow.execute('answersAfterTimer', { taskQueue, workflowId: `answers-${randomUUID()}` });
    t.equal(answer, 'answered', 'the thread the spinning workflow held serves another workflow');
    t.equal((await spinning.describe()).status.name, 'RUNNING', 'the spinning workflow is not failed, only its task');
    await spinning.terminate('test over');
  });
});
