// The rules that turn a webhook and a read of the provider into one reducer event, driven the
// way the workflow drives them (workflows/verification-run.ts providerEventToApply and onTimer).
import fc from 'fast-check';
import t from 'tap';
import { assertProperty } from '../helpers/property.ts';
import type { VerificationStatus } from '../../domain/verification.ts';
import { judgeWebhook, readEvent } from '../../workflows/provider-reads.ts';
import { applyEvent, initialState, type ReducerEvent, type ReducerPolicy, type VerificationState } from '../../workflows/state.ts';

const stripe: ReducerPolicy = { reverification: true, dedupeWindow: 2000 };
const T0 = Date.UTC(2026, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString();

function sent(eventId: string, atMs: number, status: VerificationStatus): ReducerEvent {
  return {
    source: 'webhook',
    eventId,
    occurredAt: iso(atMs),
    status,
    providerStatus: status,
    reasons: [],
    webhookEventId: `row-${eventId}`,
  };
}

t.test(
  "a read applies in the webhook's name, stamped on the provider's clock; an announced decision the read does not show is rechecked",
  async (t) => {
    const read = readEvent(
      'webhook',
      { status: 'in_progress', providerStatus: 'pending', reasons: [], fetchedAt: iso(T0 + 99_000) },
      T0 + 10_000,
    );
    t.same(read, {
      source: 'webhook',
      eventId: null,
      occurredAt: iso(T0 + 10_000),
      readAt: iso(T0 + 99_000),
      status: 'in_progress',
      providerStatus: 'pending',
      reasons: [],
    });
    const judged = judgeWebhook(sent('evt_1', T0 + 10_000, 'approved'), read, true);
    t.match(judged, {
      event: {
        eventId: 'evt_1',
        webhookEventId: 'row-evt_1',
        status: 'in_progress',
        occurredAt: iso(T0 + 10_000),
        readAt: iso(T0 + 99_000),
      },
      recheck: 'read_lag',
    });
    t.equal(judgeWebhook(sent('evt_2', T0, 'in_progress'), read, true).recheck, null, 'nothing announced that the read lacks');
  },
);

t.test('when the read fails: a signed body applies as sent, an unsigned one is unconfirmed; both are rechecked', async (t) => {
  const approved = sent('evt_1', T0, 'approved');
  t.same(judgeWebhook(approved, 'read_failed', true), { event: approved, recheck: 'read_failed' });
  t.same(judgeWebhook(approved, 'read_failed', false), { event: { ...approved, unconfirmed: true }, recheck: 'unconfirmed' });
  t.same(judgeWebhook(approved, 'not_read', true), { event: approved, recheck: null }, 'a signed revocation is the fact itself');
  t.same(
    judgeWebhook(approved, 'not_read', false),
    { event: { ...approved, unconfirmed: true }, recheck: 'unconfirmed' },
    'an unsigned body is never applied unread',
  );
});

// ---- clock skew ---------------------------------------------------------------------------
// A Stripe account over real time. The provider stamps its events in whole seconds on its
// clock; we stamp reads on ours, `skewMs` ahead of (or behind) the provider's. Webhooks arrive
// in any order; each read of the account either answers its state now or fails.

type Step =
  { kind: 'change'; status: VerificationStatus; gapMs: number } | { kind: 'deliver'; pick: number; readOk: boolean; gapMs: number };

const arbStep: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('change' as const),
    status: fc.constantFrom<VerificationStatus>('pending', 'in_progress', 'approved', 'declined'),
    gapMs: fc.integer({ min: 1, max: 3_000 }),
  }),
  fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat(), readOk: fc.boolean(), gapMs: fc.integer({ min: 1, max: 3_000 }) }),
);

interface Provider {
  real: number;
  truth: VerificationStatus;
  undelivered: { id: string; at: number; status: VerificationStatus; newest: boolean }[];
}

/** The workflow's side: the same steps handleProviderEvent and onTimer take. */
class Workflow {
  state: VerificationState = initialState();
  newestProviderEventAt = 0;
  readonly skewMs: number;
  constructor(skewMs: number) {
    this.skewMs = skewMs;
    this.apply({ source: 'api', eventId: null, occurredAt: iso(T0 + skewMs), status: 'pending', providerStatus: 'initiated', reasons: [] });
  }
  apply(event: ReducerEvent): void {
    this.state = applyEvent(this.state, event, stripe).state;
  }
  read(source: 'webhook' | 'poll', provider: Provider): ReducerEvent {
    return readEvent(
      source,
      { status: provider.truth, providerStatus: provider.truth, reasons: [], fetchedAt: iso(provider.real + this.skewMs) },
      this.newestProviderEventAt,
    );
  }
  webhook(event: ReducerEvent, readOk: boolean, provider: Provider): void {
    const sentAt = Date.parse(event.occurredAt);
    if (sentAt < this.newestProviderEventAt) return this.apply({ ...event, knownStale: true });
    this.newestProviderEventAt = Math.max(this.newestProviderEventAt, sentAt);
    this.apply(judgeWebhook(event, readOk ? this.read('webhook', provider) : 'read_failed', true).event);
  }
}

/** Runs the steps; `check` sees the workflow after every delivery. Returns the provider and the workflow at the end. */
function simulate(
  steps: Step[],
  skewMs: number,
  check: (workflow: Workflow, delivered: Provider['undelivered'][number], provider: Provider) => boolean,
): { ok: boolean; provider: Provider; workflow: Workflow } {
  const provider: Provider = { real: T0, truth: 'pending', undelivered: [] };
  const workflow = new Workflow(skewMs);
  let newestSent = 0;
  let ok = true;
  for (const [i, step] of steps.entries()) {
    provider.real += step.gapMs;
    if (step.kind === 'change') {
      provider.truth = step.status;
      for (const pending of provider.undelivered) pending.newest = false;
      provider.undelivered.push({ id: `evt_${i}`, at: Math.floor(provider.real / 1000) * 1000, status: step.status, newest: true });
      continue;
    }
    if (provider.undelivered.length === 0) continue;
    const [delivered] = provider.undelivered.splice(step.pick % provider.undelivered.length, 1);
    const newerThanAllBefore = delivered!.at > newestSent;
    newestSent = Math.max(newestSent, delivered!.at);
    workflow.webhook(sent(delivered!.id, delivered!.at, delivered!.status), step.readOk, provider);
    if (newerThanAllBefore && delivered!.newest) ok &&= check(workflow, delivered!, provider);
  }
  return { ok, provider, workflow };
}

const arbSkew = fc.integer({ min: -10_000, max: 10_000 });

t.test(
  "property (clock skew): the provider's newest event, newer on its clock than every event before it, is never judged stale against an earlier read",
  async (t) => {
    assertProperty(
      t,
      fc.property(
        fc.array(arbStep, { minLength: 1, maxLength: 16 }),
        arbSkew,
        (steps, skewMs) => simulate(steps, skewMs, (workflow, delivered) => workflow.state.status === delivered.status).ok,
      ),
      1000,
    );
  },
);

t.test(
  "property (clock skew): once every webhook is in, one successful read ends in the provider's state, whatever the skew and whichever reads failed",
  async (t) => {
    assertProperty(
      t,
      fc.property(
        fc.array(arbStep, { minLength: 1, maxLength: 16 }),
        arbSkew,
        fc.array(fc.boolean(), { maxLength: 16 }),
        (steps, skewMs, lateReads) => {
          const { provider, workflow } = simulate(steps, skewMs, () => true);
          // Deliveries still owed, in the order left, then the recheck (or fallback poll) that answers.
          for (const [i, pending] of [...provider.undelivered].entries()) {
            provider.real += 500;
            workflow.webhook(sent(pending.id, pending.at, pending.status), lateReads[i] ?? false, provider);
          }
          provider.real += 1_000;
          workflow.apply(workflow.read('poll', provider));
          return workflow.state.status === provider.truth;
        },
      ),
      1000,
    );
  },
);
