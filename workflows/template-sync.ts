// The templateSync workflow: a Temporal schedule starts it every 24 h (wiring/schedules.ts) to
// refresh the provider_templates cache of each template provider. One activity per provider, so
// one provider's outage neither blocks nor fails the others.
import { ActivityFailure, log, proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.ts';
import type { ProviderName } from '../domain/verification.ts';
import { FailureType } from '../domain/failures.ts';

type Activities = ReturnType<typeof createActivities>;

export const TEMPLATE_SYNC_WORKFLOW_TYPE = 'templateSync';

export interface TemplateSyncWorkflowInput {
  providers: ProviderName[];
}

export type TemplateSyncOutcome =
  | { provider: ProviderName; ok: true; synced: number; deactivated: number; durationMs: number }
  | { provider: ProviderName; ok: false; error: string };

// A provider outage is retried for about an hour; the next scheduled run tries again anyway, and
// meanwhile verifications keep using the cached templates.
const sync = proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '1m',
  retry: {
    initialInterval: '10s',
    backoffCoefficient: 2,
    maximumInterval: '10m',
    maximumAttempts: 8,
    nonRetryableErrorTypes: [FailureType.providerRejected],
  },
});

export async function templateSync(input: TemplateSyncWorkflowInput): Promise<TemplateSyncOutcome[]> {
  const outcomes: TemplateSyncOutcome[] = [];
  for (const provider of input.providers) {
    try {
      const summary = await sync.syncProviderTemplates({ provider });
      outcomes.push({ provider, ok: true, synced: summary.synced, deactivated: summary.deactivated, durationMs: summary.durationMs });
    } catch (err) {
      const error = err instanceof ActivityFailure && err.cause ? err.cause.message : String(err);
      log.warn('template sync failed', { provider, error });
      outcomes.push({ provider, ok: false, error });
    }
  }
  return outcomes;
}
