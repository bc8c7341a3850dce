// All 120 orders of five Persona events, with Persona's fetch-before-apply (the workflow reads
// GET /api/v1/inquiries/:id before applying a webhook): whatever the order, the verification
// ends where the provider says it is. Here the inquiry stays undecided in the sandbox.
import t from 'tap';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.ts';
import { describeTally, runAllOrders, tally } from '../helpers/event-orders.ts';
import { startStack } from '../helpers/stack.ts';

t.test('fetch-before-apply, inquiry undecided: every order of 5 events reaches the same final state', async (t) => {
  // The sandbox's own webhooks are lost (closed port): the test's five are the only ones.
  const stack = await startStack(t, { sandboxWebhookTarget: `http://127.0.0.1:${await pickFreePort()}/lost` });
  const started = Date.now();
  const runs = await runAllOrders(stack);
  const s = tally(runs);
  t.equal(runs.length, 120);
  t.same(
    Object.fromEntries(s.finals),
    { 'created/created': 120 },
    'one final state: the provider says created, whatever the webhooks claimed',
  );
  t.equal(s.lost, 0, 'no event lost');
  t.equal(s.duplicates, 0, 'no event recorded twice');
  t.equal(s.exactShape, 120, 'history: its own entry + 5 webhook entries');
  // Webhooks that reach the workflow together share one provider read: they tie on its time and
  // the losers of the tiebreak are `superseded` (by the same answer) rather than `stale`.
  t.same(
    [...s.reasons.keys()].filter((r) => r !== 'stale' && r !== 'superseded'),
    [],
    'an event not applied is stale or superseded by the same read',
  );
  t.equal((s.outcomes.get('applied') ?? 0) + (s.outcomes.get('stale') ?? 0), 600, 'every stored event has a verdict');
  t.comment(`orders=120 ${describeTally(s)} ms=${Date.now() - started}`);
});
