// The operator queue (workflows/inbox.ts) and the events the workflow decides itself
// (workflows/own-events.ts): arrival order decides, provider events wait for the session with
// everything behind them, submitters get an answer by id.
import { ApplicationFailure } from '@temporalio/workflow';
import fc from 'fast-check';
import t from 'tap';
import { assertProperty } from '../helpers/property.ts';
import type { ProviderEvent } from '../../domain/verification.ts';
import { Inbox, type InboxItem } from '../../workflows/inbox.ts';
import { FailureType } from '../../domain/failures.ts';
import { alreadyTerminal, apiEvent, cancelEvent, rejectIfTerminal, reviewEvent, validateReview } from '../../workflows/own-events.ts';
import type { ReducerEvent } from '../../workflows/state.ts';

const NOW = '2026-01-01T00:00:00.000Z';

function providerEvent(id: string): ProviderEvent {
  return {
    provider: 'persona',
    providerEventId: id,
    occurredAt: NOW,
    eventType: 'inquiry.completed',
    providerStatus: 'completed',
    status: 'in_progress',
    reasons: [],
    webhookEventId: null,
  };
}
const cancel = cancelEvent({}, 'pending', NOW);
const label = (item: InboxItem) => (item.kind === 'provider' ? item.event.providerEventId : `own${item.id}`);

t.test('while provider events wait, own events ahead of them are served and the rest waits in arrival order', async (t) => {
  const inbox = new Inbox([providerEvent('carried')]);
  t.equal(inbox.length, 1);
  t.notOk(inbox.hasWork(true), 'a carried provider event waits');
  const cancelId = inbox.addOwnEvent(cancel, true);
  const created = inbox.addOwnEvent(apiEvent('created', null, [], NOW), false, true);
  t.ok(inbox.hasWork(true), "the session's creation goes first");
  t.same(inbox.takeBatch(true).map(label), [`own${created}`]);
  t.notOk(inbox.hasWork(true), 'the cancel arrived after a provider event: it waits behind it');
  inbox.addProviderEvent(providerEvent('evt_1'));
  t.same(
    inbox.providerEvents().map((e) => e.providerEventId),
    ['carried', 'evt_1'],
    'what the next run inherits',
  );
  t.ok(inbox.mustServe(false), 'a closing run serves everything');
  t.ok(inbox.mustServe(true), 'a continuing run must still answer the cancel');
  t.same(inbox.takeBatch(false).map(label), ['carried', `own${cancelId}`, 'evt_1']);
  t.equal(inbox.length, 0);
  t.notOk(inbox.hasWork(false));
  inbox.addProviderEvent(providerEvent('evt_2'), undefined);
  t.notOk(inbox.mustServe(true), 'provider events ride along into the next run');
});

t.test('a submitter is answered by id, with the refusal if any, once', async (t) => {
  const inbox = new Inbox();
  const first = inbox.addOwnEvent(cancel, true);
  const second = inbox.addOwnEvent(cancel, true);
  t.not(first, second);
  t.notOk(inbox.isAnswered(first));
  const refusal = alreadyTerminal('approved');
  inbox.answer(second, refusal);
  t.notOk(inbox.isAnswered(first), 'answering one answers no other');
  t.ok(inbox.isAnswered(second));
  t.equal(inbox.takeAnswer(second), refusal);
  t.notOk(inbox.isAnswered(second), 'forgotten once taken');
  inbox.answer(first, null);
  t.equal(inbox.takeAnswer(first), null);
});

t.test('own events: operator actions and session results, validated before they queue', async (t) => {
  t.match(cancel, { source: 'operator', status: 'canceled', providerStatus: 'pending', reasons: ['canceled_by_client'], occurredAt: NOW });
  t.same(cancelEvent({ reason: 'duplicate' }, null, NOW).reasons, ['duplicate']);
  const review: ReducerEvent = reviewEvent({ decision: 'declined', reason: 'fraud' }, 'completed', NOW);
  t.match(review, { source: 'operator', eventId: null, status: 'declined', providerStatus: 'completed', reasons: ['operator_review'] });
  t.same(apiEvent('error', null, ['provider_rejected'], NOW), {
    source: 'api',
    eventId: null,
    occurredAt: NOW,
    status: 'error',
    providerStatus: null,
    reasons: ['provider_rejected'],
  });
  t.doesNotThrow(() => rejectIfTerminal('needs_review'));
  t.throws(() => rejectIfTerminal('expired'), {
    type: FailureType.alreadyTerminal,
    message: 'Verification is already expired',
    nonRetryable: true,
  });
  t.doesNotThrow(() => validateReview({ decision: 'approved', reason: '' }));
  const invalid = { decision: 'maybe', reason: '' } as unknown as Parameters<typeof validateReview>[0];
  t.throws(() => validateReview(invalid), { type: FailureType.invalidDecision, message: 'decision must be approved or declined' });
  t.ok(alreadyTerminal('approved') instanceof ApplicationFailure);
});

// ---- properties -------------------------------------------------------------------------

const arbArrivals = fc.array(fc.constantFrom('provider', 'own', 'first'), { maxLength: 12 });

t.test(
  'property: batches hand out every item once in queue order; while provider events wait, only the own events ahead of them',
  async (t) => {
    assertProperty(
      t,
      fc.property(arbArrivals, fc.boolean(), (arrivals, wait) => {
        const inbox = new Inbox();
        const queue: string[] = [];
        arrivals.forEach((kind, n) => {
          if (kind === 'provider') {
            inbox.addProviderEvent(providerEvent(`evt_${n}`));
            queue.push(`evt_${n}`);
          } else {
            const id = inbox.addOwnEvent(cancel, false, kind === 'first');
            if (kind === 'first') queue.unshift(`own${id}`);
            else queue.push(`own${id}`);
          }
        });
        const taken: string[] = [];
        for (let batch = inbox.takeBatch(wait); batch.length > 0; batch = inbox.takeBatch(wait)) taken.push(...batch.map(label));
        const firstProvider = queue.findIndex((l) => l.startsWith('evt_'));
        const expected = wait && firstProvider !== -1 ? queue.slice(0, firstProvider) : queue;
        return (
          JSON.stringify(taken) === JSON.stringify(expected) && inbox.length === queue.length - expected.length && !inbox.hasWork(wait)
        );
      }),
    );
  },
);
