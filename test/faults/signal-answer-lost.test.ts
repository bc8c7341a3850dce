// A signal can reach Temporal while its answer never reaches the API (the connection stalls on
// the way back): the dispatcher's call runs out of time, the row is marked "Temporal
// unreachable", and the workflow applies the event all the same. The row must then say what
// happened: delivered, with the workflow's verdict and no stale error. A row left undelivered
// would never be claimed again (it is no longer `received`) and would read as lost forever.
import { eq } from 'drizzle-orm';
import t from 'tap';
import { webhookEvents } from '../../db/schema/index.ts';
import { personaEventBody, postPersonaWebhook } from '../helpers/persona-webhooks.ts';
import { eventually, startStack } from '../helpers/stack.ts';
import { startTemporalViaProxy } from '../helpers/temporal-via-proxy.ts';

t.test('a signal whose answer is lost, applied by the workflow after the API gave up on it, is recorded as delivered', async (t) => {
  // Only the API reaches Temporal through the proxy; the worker goes straight to it.
  const { proxy, apiTemporal } = await startTemporalViaProxy(t);
  // No sweeper: the intake's nudge is the only dispatch pass, so no retry can deliver the row instead.
  const stack = await startStack(t, { temporal: apiTemporal });

  const created = await stack.request('POST', '/v1/verifications', { provider: 'persona' }, { prefer: 'wait=15' });
  t.equal(created.status, 201);
  const inquiryId = new URL(created.body.sessionUrl).searchParams.get('inquiry-id')!;

  // The workflow cannot apply anything until the worker is back.
  stack.worker!.shutdown();
  await eventually(
    async () => stack.worker!.getState(),
    (state) => state === 'STOPPED',
  );
  proxy.pause('replies');
  t.teardown(() => proxy.resume());
  const event = personaEventBody({
    name: 'inquiry.started',
    status: 'pending',
    createdAt: new Date(),
    inquiryId,
    referenceId: created.body.id,
  });
  const answer = await postPersonaWebhook(stack.apiUrl, event.body);
  t.equal(answer.status, 200, 'acknowledged once stored');

  const readRow = async () => {
    const [row] = await stack.directDb.select().from(webhookEvents).where(eq(webhookEvents.providerEventId, event.eventId));
    return row!;
  };
  const givenUp = await eventually(readRow, (row) => row.errorMessage !== null, { timeoutMs: 30_000 });
  t.match(givenUp, { outcome: 'received', deliveredAt: null, errorMessage: /^Temporal unreachable/ }, 'the API gave up on the signal');

  await stack.startWorker();
  const applied = await eventually(readRow, (row) => row.outcome === 'applied', { timeoutMs: 30_000 });
  t.ok(applied.deliveredAt, 'the applied row is delivered');
  t.equal(applied.errorMessage, null, 'and no longer says Temporal was unreachable');
});
