// Template (multi-step) providers: each step is its own activity, so a crash resumes at the
// first unfinished step and a provider outage is retried with backoff while the client can read
// why in `progress.message`.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { eq } from 'drizzle-orm';
import { noticeVerificationChanged } from '../db/change-notice.js';
import type { Database } from '../db/client.js';
import { verifications, type VerificationProgress } from '../db/schema/index.js';
import type { ProviderName } from '../domain/verification.js';
import type { MultiStepApi, TemplateStep } from '../providers/types.js';
import { FailureType } from '../workflows/messages.js';
import type { ActivityDeps, ProviderLookup } from './deps.js';
import { saveDocument } from './documents.js';
import { toActivityFailure } from './failures.js';
import type { FetchedState } from './sessions.js';

export interface StepRequest {
  verificationId: string;
  provider: ProviderName;
  providerRef: string;
  templateId: string | null;
  stepIndex: number;
  totalSteps: number;
  step: TemplateStep;
}

function stepsOf(providers: ProviderLookup, provider: ProviderName): MultiStepApi {
  const steps = providers.get(provider).steps;
  if (!steps) throw ApplicationFailure.create({ type: FailureType.providerRejected, message: `Provider ${provider} has no template steps`, nonRetryable: true });
  return steps;
}

export function progressOf(completed: number, total: number, message: string): VerificationProgress {
  return { currentStep: completed, totalSteps: total, percentage: total === 0 ? 100 : Math.round((completed / total) * 100), message };
}

async function saveProgress(db: Database, verificationId: string, progress: VerificationProgress): Promise<void> {
  await db.update(verifications).set({ progress, updatedAt: new Date() }).where(eq(verifications.id, verificationId));
  await noticeVerificationChanged(db, verificationId);
}

export function createStepActivities({ db, providers, logger }: ActivityDeps) {
  return {
    async listTemplateSteps({ provider, templateId }: { provider: ProviderName; templateId: string | null }): Promise<{ steps: TemplateStep[] }> {
      try {
        return { steps: await stepsOf(providers, provider).listSteps(templateId) };
      } catch (err) {
        throw toActivityFailure(err);
      }
    },

    async runTemplateStep(request: StepRequest): Promise<void> {
      const { verificationId, stepIndex, totalSteps, step } = request;
      const attempt = Context.current().info.attempt;
      if (stepIndex === 0 && attempt === 1) await saveProgress(db, verificationId, progressOf(0, totalSteps, `Starting ${step.name}`));
      try {
        await stepsOf(providers, request.provider).runStep({
          providerRef: request.providerRef,
          templateId: request.templateId,
          step,
          stepIndex,
          idempotencyKey: `veriflow-${verificationId}-step-${stepIndex}`,
        });
      } catch (err) {
        const failure = toActivityFailure(err);
        const final = failure instanceof ApplicationFailure && failure.nonRetryable;
        const message = final ? `${step.name} was rejected by the provider` : `Provider service temporarily unavailable; retrying ${step.name} (attempt ${attempt})`;
        await saveProgress(db, verificationId, progressOf(stepIndex, totalSteps, message));
        logger.warn({ verificationId, step: step.key, attempt, err }, final ? 'template step rejected' : 'template step failed; will retry');
        throw failure;
      }
      const next = stepIndex + 1 < totalSteps ? `${step.name} completed` : 'All steps completed; awaiting the provider decision';
      await saveProgress(db, verificationId, progressOf(stepIndex + 1, totalSteps, next));
      logger.info({ verificationId, step: step.key, stepIndex, totalSteps }, 'template step completed');
    },

    async finalizeSession(request: Omit<StepRequest, 'stepIndex' | 'totalSteps' | 'step'>): Promise<FetchedState> {
      let state;
      try {
        state = await stepsOf(providers, request.provider).finalize({ providerRef: request.providerRef, templateId: request.templateId });
      } catch (err) {
        throw toActivityFailure(err);
      }
      if (state.document) await saveDocument(db, { verificationId: request.verificationId, document: state.document, sourceEventId: null, onlyIfMissing: false });
      return { providerStatus: state.providerStatus, status: state.status, reasons: state.reasons, fetchedAt: new Date().toISOString() };
    },
  };
}
