// Opening a provider session is a regular activity on the worker's own task queue. The server
// hands it back with the completion of the workflow task that scheduled it (eager activity
// execution) instead of queueing it in matching for the next poll: one dispatch less for each
// created verification, in Temporal's CPU and before the session exists.
import t from 'tap';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.ts';
import { eventually, startStack, workflowBundle } from '../helpers/stack.ts';
import { startWorkerProcess, writeWorkflowBundle } from '../helpers/worker-process.ts';

/** The SDK's `activity_task_received` counts for createProviderSession, by whether the task came eagerly. */
async function sessionTasksReceived(metricsUrl: string): Promise<{ eager: number; polled: number }> {
  const text = await (await fetch(metricsUrl)).text();
  const counts = { eager: 0, polled: 0 };
  for (const line of text.split('\n')) {
    if (!line.startsWith('temporal_activity_task_received{') || !line.includes('activity_type="createProviderSession"')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.includes('eager="true"')) counts.eager += value;
    else counts.polled += value;
  }
  return counts;
}

t.test('a created verification opens its session with an activity the server dispatched eagerly', async (t) => {
  const stack = await startStack(t, { worker: false });
  const metricsPort = await pickFreePort();
  const bundlePath = await writeWorkflowBundle(t, (await workflowBundle()).code);
  await startWorkerProcess(t, { ...stack.env, TEMPORAL_METRICS_BIND: `127.0.0.1:${metricsPort}` }, bundlePath);

  const count = 3;
  for (let i = 0; i < count; i++) {
    const created = await stack.request(
      'POST',
      '/v1/verifications',
      { provider: 'persona', reference: `eager-${i}` },
      { prefer: 'wait=20' },
    );
    t.equal(created.status, 201, 'the session exists when the create answers');
  }
  const received = await eventually(
    () => sessionTasksReceived(`http://127.0.0.1:${metricsPort}/metrics`),
    (counts) => counts.eager + counts.polled >= count,
    { what: 'the worker to report its createProviderSession tasks' },
  );
  t.same(received, { eager: count, polled: 0 }, 'every session activity came back with its workflow task');
});
