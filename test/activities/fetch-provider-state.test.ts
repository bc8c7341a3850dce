// fetchProviderState under the read budget: past it the provider is not called and the activity
// fails at once, not retried, with a type the workflow treats as a failed read; every read is
// counted by provider and outcome.
import { ApplicationFailure } from '@temporalio/common';
import pino from 'pino';
import t from 'tap';
import { providerReadBudget, type ReadBudgetSettings } from '../../activities/read-budget.ts';
import { createSessionActivities } from '../../activities/sessions.ts';
import { FailureType } from '../../domain/failures.ts';
import { PROVIDER_NAMES, type ProviderName } from '../../domain/verification.ts';
import { ProviderRequestError } from '../../providers/errors.ts';
import type { ProviderAdapter } from '../../providers/types.ts';
import { createMetrics } from '../../wiring/metrics.ts';

const everyProvider = (settings: ReadBudgetSettings) =>
  Object.fromEntries(PROVIDER_NAMES.map((name) => [name, settings])) as Record<ProviderName, ReadBudgetSettings>;

t.test('reads past the budget are not made, fail non-retryable and are counted', async (t) => {
  const calls = { count: 0, fail: false };
  const adapter = {
    async fetchState() {
      calls.count += 1;
      if (calls.fail) throw new ProviderRequestError('down', { provider: 'persona', status: 503, retryable: true, retryAfterMs: null });
      return { status: 'approved', providerStatus: 'approved', reasons: [] };
    },
  } as unknown as ProviderAdapter;
  const metrics = createMetrics();
  const activities = createSessionActivities({
    db: {} as never,
    providers: { get: () => adapter },
    logger: pino({ level: 'silent' }),
    outbound: {} as never,
    metrics,
    readBudget: providerReadBudget(everyProvider({ perSecond: 0.001, burst: 2 })),
  });
  const read = () => activities.fetchProviderState({ verificationId: 'v', provider: 'persona', providerRef: 'inq_1' });

  t.match(await read(), { status: 'approved' });
  calls.fail = true;
  const failed = await read().catch((err: unknown) => err);
  t.match(failed, { type: FailureType.providerUnavailable, nonRetryable: false }, 'a provider error is retried as before');
  const over = await read().catch((err: unknown) => err);
  t.ok(over instanceof ApplicationFailure, 'an ApplicationFailure');
  t.match(over, { type: FailureType.providerReadOverBudget, nonRetryable: true });
  t.equal(calls.count, 2, 'the third read never reached the provider');

  const body = await metrics.registry.metrics();
  t.match(body, 'veriflow_provider_reads_total{provider="persona",outcome="made"} 1');
  t.match(body, 'veriflow_provider_reads_total{provider="persona",outcome="failed"} 1');
  t.match(body, 'veriflow_provider_reads_total{provider="persona",outcome="over_budget"} 1');
  t.match(body, 'veriflow_provider_reads_total{provider="stripe",outcome="over_budget"} 0', 'every series starts at zero');
});

t.test('the last look before a session expires is made even with the budget spent', async (t) => {
  // Expiry decides the outcome once per verification: refusing its read would expire a decision
  // whose webhook was lost, which is what the look is for.
  let calls = 0;
  const adapter = {
    async fetchState() {
      calls += 1;
      return { status: 'approved', providerStatus: 'approved', reasons: [] };
    },
  } as unknown as ProviderAdapter;
  const activities = createSessionActivities({
    db: {} as never,
    providers: { get: () => adapter },
    logger: pino({ level: 'silent' }),
    outbound: {} as never,
    readBudget: providerReadBudget(everyProvider({ perSecond: 0.001, burst: 0 })),
  });
  const request = { verificationId: 'v', provider: 'persona', providerRef: 'inq_1' } as const;

  t.match(await activities.fetchProviderState(request).catch((err: unknown) => err), { type: FailureType.providerReadOverBudget });
  t.match(await activities.fetchProviderState({ ...request, beforeExpiry: true }), { status: 'approved' });
  t.equal(calls, 1, 'only the look before expiry reached the provider');
});
