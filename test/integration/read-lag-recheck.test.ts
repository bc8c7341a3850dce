// A webhook announces a decision the provider's read API does not show yet (read lag): the
// workflow looks again soon. A later event must not push that recheck back to the fallback poll.
import t from 'tap';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.ts';
import { decidePersonaInquiry, personaEventBody, postPersonaWebhook } from '../helpers/persona-webhooks.ts';
import { eventually, startStack } from '../helpers/stack.ts';

t.test('the read-lag recheck survives a later event', async (t) => {
  // The sandbox's own webhooks are lost: only the ones this test signs arrive. Rechecks come
  // after 4 s; the fallback poll only after an hour.
  const stack = await startStack(t, {
    env: { VERIFY_FALLBACK_POLL_AFTER: '1h', VERIFY_POLL_INTERVAL: '4s' },
    sandboxWebhookTarget: `http://127.0.0.1:${await pickFreePort()}/lost`,
  });
  const created = await stack.request('POST', '/v1/verifications', { provider: 'persona' }, { prefer: 'wait=15' });
  t.equal(created.status, 201);
  const id: string = created.body.id;
  const inquiryId = new URL(created.body.sessionUrl).searchParams.get('inquiry-id')!;
  const get = () => stack.request('GET', `/v1/verifications/${id}`);
  const recorded = (eventId: string) =>
    eventually(get, (r) => r.body.history.some((h: { eventId: string | null }) => h.eventId === eventId));

  // 1. `approved` announced while the inquiry still reads `created`: a recheck is due in 4 s.
  const announced = personaEventBody({ name: 'inquiry.approved', createdAt: new Date(), inquiryId, referenceId: id, status: 'approved' });
  t.equal((await postPersonaWebhook(stack.apiUrl, announced.body)).status, 200);
  const afterAnnounce = await recorded(announced.eventId);
  t.equal(afterAnnounce.body.status, 'created', 'applied as the read said: not approved yet');

  // 2. Any later event (here an older one, judged stale without a read) arrives before the recheck.
  const older = personaEventBody({
    name: 'inquiry.started',
    createdAt: new Date(Date.now() - 60_000),
    inquiryId,
    referenceId: id,
    status: 'pending',
  });
  t.equal((await postPersonaWebhook(stack.apiUrl, older.body)).status, 200);
  await recorded(older.eventId);

  // 3. The decision reaches the read API; its webhooks are lost.
  t.equal(await decidePersonaInquiry(stack.sandboxUrl, inquiryId, 'approved'), 200);

  const done = await eventually(get, (r) => r.body.status === 'approved', { timeoutMs: 15_000, intervalMs: 200 });
  t.equal(done.body.status, 'approved', 'found by the recheck, not an hour later by the fallback poll');
  t.match(done.body.history.at(-1), { source: 'poll', to: 'approved', applied: true });
});
