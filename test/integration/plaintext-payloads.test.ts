// Anyone who reaches the Temporal frontend can send a workflow a signal or an update; only our
// API holds the payload keys. A production worker must refuse a plaintext payload instead of
// acting on it: here an unencrypted `review: approved` update, sent past the API.
import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { pino } from 'pino';
import t from 'tap';
import { outboundPolicyFromEnv } from '../../wiring/outbound-address.ts';
import { getDataConverter } from '../../wiring/codec.ts';
import { reviewUpdate } from '../../workflows/messages.ts';
import { createVerificationWorker, installTemporalRuntime, promoteWorker } from '../../wiring/worker-root.ts';
import { eventually, startStack, workflowBundle } from '../helpers/stack.ts';

// The public dev key, configured explicitly: the API (test mode) and this production-mode worker
// then share it, and the worker's ring holds configured keys only, as in production.
const DEV_KEY = `dev:${Buffer.from('veriflow-dev-payload-key-32bytes', 'utf8').toString('base64')}`;

t.test('a production worker does not apply a plaintext update', async (t) => {
  const stack = await startStack(t, { worker: false });
  const logger = pino({ level: 'silent' });
  installTemporalRuntime(logger);
  const connection = await NativeConnection.connect({ address: stack.temporal.address });
  const worker = await createVerificationWorker({
    connection,
    namespace: stack.temporal.namespace,
    taskQueue: stack.env.TEMPORAL_TASK_QUEUE,
    workflowBundle: await workflowBundle(),
    db: stack.database.db,
    providers: stack.providers,
    logger,
    outbound: outboundPolicyFromEnv(stack.env),
    dataConverter: getDataConverter({ NODE_ENV: 'production', PAYLOAD_ENCRYPTION_KEYS: DEV_KEY }),
  });
  const running = worker.run().finally(() => connection.close());
  t.teardown(async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  });
  await promoteWorker(worker, connection, 'always');

  const created = await stack.request(
    'POST',
    '/v1/verifications',
    { provider: 'persona', reference: 'plaintext-1' },
    { prefer: 'wait=15' },
  );
  t.equal(created.status, 201, 'encrypted traffic from the API works');
  const id: string = created.body.id;
  const handle = new Client({ connection: stack.temporal.client.connection, namespace: stack.temporal.namespace }).workflow.getHandle(
    `verification-${id}`,
  );

  // No data converter: the update's argument travels as plain JSON.
  const forged = handle
    .executeUpdate(reviewUpdate, { args: [{ decision: 'approved', reason: 'forged past the API' }] })
    .catch((err: unknown) => err);
  const history = await eventually(
    () => handle.fetchHistory(),
    (h) =>
      (h.events ?? []).some((e) => e.workflowTaskFailedEventAttributes) ||
      (h.events ?? []).some((e) => e.workflowExecutionUpdateCompletedEventAttributes),
    { timeoutMs: 20_000 },
  );
  t.ok(
    (history.events ?? []).some((e) => e.workflowTaskFailedEventAttributes),
    'the workflow task that carried the plaintext update failed',
  );
  t.notOk(
    (history.events ?? []).some((e) => e.workflowExecutionUpdateCompletedEventAttributes),
    'the update was never completed',
  );
  const view = await stack.request('GET', `/v1/verifications/${id}`);
  t.not(view.body.status, 'approved', `the verification stays ${view.body.status}`);
  t.notOk(
    view.body.history.some((h: { source: string }) => h.source === 'operator'),
    'no operator decision recorded',
  );
  // Ends the pending update call (it would wait for the refused update forever).
  await handle.terminate('test over');
  await forged;
});
