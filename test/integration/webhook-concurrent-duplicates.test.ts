// One Persona webhook delivered 100 times at once (a provider retry storm, several API
// instances): the unique (provider, event id) key lets exactly one delivery store and signal it;
// the other 99 answer `duplicate: true`, and the workflow records exactly one transition.
import { eq } from 'drizzle-orm';
import t from 'tap';
import { verificationHistory, webhookEvents } from '../../db/schema/index.ts';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.ts';
import { decidePersonaInquiry, personaEventBody, postPersonaWebhook } from '../helpers/persona-webhooks.ts';
import { eventually, startStack } from '../helpers/stack.ts';

const DELIVERIES = 100;

t.test('100 concurrent deliveries of one webhook: one stored, one transition, 99 duplicates', async (t) => {
  // The sandbox's own webhooks go to a closed port: only the test's copies reach the API.
  const stack = await startStack(t, { sandboxWebhookTarget: `http://127.0.0.1:${await pickFreePort()}/lost` });
  const created = await stack.request('POST', '/v1/verifications', { provider: 'persona' }, { prefer: 'wait=15' });
  t.equal(created.status, 201);
  const id: string = created.body.id;
  const inquiryId = new URL(created.body.sessionUrl).searchParams.get('inquiry-id')!;

  // Persona decides; its webhook is what we deliver 100 times (fetch-before-apply reads `approved`).
  t.equal(await decidePersonaInquiry(stack.sandboxUrl, inquiryId, 'approved'), 200);

  const { eventId, body } = personaEventBody({
    name: 'inquiry.approved',
    createdAt: new Date(),
    inquiryId,
    referenceId: id,
    status: 'approved',
  });
  const responses = await Promise.all(Array.from({ length: DELIVERIES }, () => postPersonaWebhook(stack.apiUrl, body)));
  const ok = responses.filter((r) => r.status === 200);
  const accepted = ok.filter((r) => r.body.duplicate === false).length;
  const duplicates = ok.filter((r) => r.body.duplicate === true).length;
  const others = responses.filter((r) => r.status !== 200).map((r) => `${r.status} ${JSON.stringify(r.body)}`);
  t.equal(ok.length, DELIVERIES, `every delivery answered 200${others.length ? `; others: ${others.slice(0, 3).join(' | ')}` : ''}`);
  t.equal(accepted, 1, 'exactly one delivery stored the event');
  t.equal(duplicates, DELIVERIES - 1, 'the other 99 answered duplicate: true');

  const done = await eventually(
    () => stack.request('GET', `/v1/verifications/${id}`),
    (r) => r.body.status === 'approved',
  );
  t.equal(done.body.status, 'approved');
  // Give any stray second delivery time to show up before counting.
  await new Promise((r) => setTimeout(r, 1000));

  const rows = await stack.directDb.select().from(webhookEvents).where(eq(webhookEvents.providerEventId, eventId));
  t.equal(rows.length, 1, 'webhook_events holds one row');
  t.equal(rows[0]?.outcome, 'applied');
  t.equal(rows[0]?.deliveryAttempts, 0, 'no failed signal attempt');
  // Workflow starts carry no signal here (the verification exists), so every signal is a webhook's.
  const workflowHistory = await stack.temporal.client.workflow.getHandle(`verification-${id}`).fetchHistory();
  const signals = (workflowHistory.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes);
  t.equal(signals.length, 1, 'signalled once');
  const history = await stack.directDb.select().from(verificationHistory).where(eq(verificationHistory.verificationId, id));
  const forEvent = history.filter((h) => h.eventId === eventId);
  t.equal(forEvent.length, 1, 'one history entry for the event');
  t.match(forEvent[0], { source: 'webhook', fromStatus: 'created', toStatus: 'approved', applied: true });
  const transitions = history.filter((h) => h.applied && h.fromStatus !== h.toStatus);
  t.equal(transitions.length, 1, 'exactly one transition recorded');
  t.comment(
    `sent=${DELIVERIES} accepted=${accepted} duplicates=${duplicates} rows=${rows.length} historyEntries=${forEvent.length} transitions=${transitions.length} outcome=${rows[0]?.outcome}`,
  );
});
