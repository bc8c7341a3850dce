// Continue-as-new carries the events that arrive while a run finishes: here the run is due to
// continue (VERIFY_CONTINUE_AS_NEW_AFTER=2) but still waits for the link email, because the SMTP
// server stalls; a webhook signalled during the stall must be applied by the next run.
import { createConnection, createServer, type Socket } from 'node:net';
import { eq } from 'drizzle-orm';
import t, { type Test } from 'tap';
import { emailDeliveries, webhookEvents } from '../../db/schema/index.ts';
import { startMailCatcher } from '../../sandbox/mail.ts';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.ts';
import { verificationWorkflowId } from '../../workflows/messages.ts';
import { personaEventBody, postPersonaWebhook } from '../helpers/persona-webhooks.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';

/** An SMTP server that accepts connections but says nothing until released. */
async function stallingSmtp(
  t: Pick<Test, 'teardown'>,
  target: { port: number },
): Promise<{ url: string; held: () => number; release: () => void }> {
  const held: Socket[] = [];
  let holding = true;
  const forward = (client: Socket) => {
    const upstream = createConnection({ host: '127.0.0.1', port: target.port });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  };
  const server = createServer((client) => (holding ? held.push(client) : forward(client)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const socket of held) socket.destroy();
    server.close();
  });
  const { port } = server.address() as { port: number };
  return {
    url: `smtp://127.0.0.1:${port}`,
    held: () => held.length,
    release() {
      holding = false;
      held.splice(0).forEach(forward);
    },
  };
}

async function outcomeOf(stack: Stack, eventId: string): Promise<string | undefined> {
  const [row] = await stack.directDb
    .select({ outcome: webhookEvents.outcome })
    .from(webhookEvents)
    .where(eq(webhookEvents.providerEventId, eventId));
  return row?.outcome;
}

t.test('continue-as-new while the link email stalls: a webhook signalled meanwhile is applied by the next run', async (t) => {
  const mail = await startMailCatcher({ port: 0 });
  t.teardown(() => mail.close());
  const smtp = await stallingSmtp(t, mail);
  const stack = await startStack(t, {
    env: { VERIFY_CONTINUE_AS_NEW_AFTER: '2', SMTP_URL: smtp.url },
    capabilities: { persona: { fetchBeforeApply: false } },
    sandboxWebhookTarget: `http://127.0.0.1:${await pickFreePort()}/lost`,
  });
  const created = await stack.request(
    'POST',
    '/v1/verifications',
    { provider: 'persona', applicant: { email: 'ada@example.com' }, notify: { email: true } },
    { prefer: 'wait=15' },
  );
  t.equal(created.status, 201);
  const id: string = created.body.id;
  const inquiryId = new URL(created.body.sessionUrl).searchParams.get('inquiry-id')!;
  const handle = stack.temporal.client.workflow.getHandle(verificationWorkflowId(id));
  const firstRunId = (await handle.describe()).runId;
  await eventually(
    async () => smtp.held(),
    (n) => n > 0,
  );

  // The second history entry: the run is now due to continue as new, and waits for the email.
  const base = Date.now() - 60_000;
  const started = personaEventBody({ name: 'inquiry.started', createdAt: new Date(base), inquiryId, referenceId: id, status: 'pending' });
  t.equal((await postPersonaWebhook(stack.apiUrl, started.body)).status, 200);
  t.equal(
    await eventually(
      () => outcomeOf(stack, started.eventId),
      (o) => o === 'applied',
    ),
    'applied',
  );

  const completed = personaEventBody({
    name: 'inquiry.completed',
    createdAt: new Date(base + 1000),
    inquiryId,
    referenceId: id,
    status: 'completed',
  });
  t.equal((await postPersonaWebhook(stack.apiUrl, completed.body)).status, 200);
  t.equal(
    await eventually(
      () => outcomeOf(stack, completed.eventId),
      (o) => o !== 'received',
    ),
    'delivered',
    'signalled while the email stalls',
  );
  t.equal((await handle.describe()).runId, firstRunId, 'the first run is still waiting for the email');

  smtp.release();
  await eventually(
    () => stack.database.db.select().from(emailDeliveries).where(eq(emailDeliveries.verificationId, id)),
    (rows) => rows[0]?.status === 'sent',
  );
  const continued = await eventually(
    () => handle.describe(),
    (d) => d.runId !== firstRunId,
  );
  t.not(continued.runId, firstRunId, 'the workflow continued as new');
  t.equal(
    await eventually(
      () => outcomeOf(stack, completed.eventId),
      (o) => o === 'applied',
    ),
    'applied',
    'the next run applied the webhook',
  );
  const view = await eventually(
    () => stack.request('GET', `/v1/verifications/${id}`),
    (r) => r.body.providerStatus === 'completed',
  );
  t.equal(view.body.providerStatus, 'completed');
  t.equal(view.body.history.at(-1)?.eventId, completed.eventId);
});
