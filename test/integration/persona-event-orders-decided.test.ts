// All 120 orders of five Persona events, with Persona's fetch-before-apply, the inquiry decided
// (approved) in the sandbox before any webhook arrives: every order ends approved, and each
// history holds exactly the five webhooks and the verification's own entry.
import t from 'tap';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.ts';
import { describeTally, runAllOrders, tally } from '../helpers/event-orders.ts';
import { startStack } from '../helpers/stack.ts';

t.test('fetch-before-apply, inquiry decided first: every order of 5 events ends approved', async (t) => {
  // The sandbox's own webhooks (sent when it decides) are lost: the test's five are the only ones.
  const stack = await startStack(t, { sandboxWebhookTarget: `http://127.0.0.1:${await pickFreePort()}/lost` });
  const started = Date.now();
  const runs = await runAllOrders(stack, { decideFirst: 'approved' });
  const s = tally(runs);
  t.equal(runs.length, 120);
  t.same(Object.fromEntries(s.finals), { 'approved/approved': 120 }, 'all 120 approved');
  t.equal(s.exactShape, 120, 'history: its own entry + exactly 5 webhook entries');
  t.equal(s.lost, 0, 'no event lost');
  t.equal(s.duplicates, 0, 'no event recorded twice');
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
