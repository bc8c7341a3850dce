// Template sync as an activity, run by the templateSync workflow every 24 h (a Temporal schedule).
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { syncProviderTemplates, type TemplateSyncSummary } from '../db/template-sync.ts';
import type { ProviderName } from '../domain/verification.ts';
import { FailureType } from '../domain/failures.ts';
import type { ActivityDeps } from './deps.ts';
import { toActivityFailure } from './failures.ts';

export interface TemplateSyncRequest {
  provider: ProviderName;
}

export interface ProviderTemplateSyncSummary extends TemplateSyncSummary {
  provider: ProviderName;
}

export function createTemplateActivities({ db, providers, logger }: ActivityDeps) {
  return {
    async syncProviderTemplates({ provider }: TemplateSyncRequest): Promise<ProviderTemplateSyncSummary> {
      let adapter;
      try {
        adapter = providers.get(provider);
      } catch (err) {
        throw ApplicationFailure.create({
          type: FailureType.providerRejected,
          message: `Provider ${provider} is not configured: ${(err as Error).message}`,
          nonRetryable: true,
        });
      }
      const steps = adapter.steps;
      if (!steps)
        throw ApplicationFailure.create({
          type: FailureType.providerRejected,
          message: `Provider ${provider} has no templates`,
          nonRetryable: true,
        });
      logger.info({ provider }, 'template sync started');
      let summary: TemplateSyncSummary;
      try {
        summary = await syncProviderTemplates(db, {
          provider,
          listTemplates: () =>
            steps.listTemplates({
              onPage: (progress) => {
                // A large catalogue takes many pages: heartbeats show the activity is alive.
                Context.current().heartbeat(progress);
                logger.info({ provider, ...progress }, 'template sync: page fetched');
              },
            }),
        });
      } catch (err) {
        logger.warn({ provider, err }, 'template sync failed');
        throw toActivityFailure(err);
      }
      logger.info({ provider, ...summary }, 'template sync finished');
      return { provider, ...summary };
    },
  };
}
