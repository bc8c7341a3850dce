// Template (multi-step) providers: each step is its own activity, so a crash resumes at the
// first unfinished step and a provider outage is retried with backoff while the client can read
// why in `progress.message`.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { and, eq } from 'drizzle-orm';
import { noticeVerificationChanged } from '../db/change-notice.ts';
import type { Database } from '../db/client.ts';
import { providerTemplates, verifications, type VerificationProgress } from '../db/schema/index.ts';
import type { ProviderName } from '../domain/verification.ts';
import type { MultiStepApi, StepApplicant, TemplateStep } from '../providers/types.ts';
import { FailureType } from '../domain/failures.ts';
import type { ActivityDeps, ProviderLookup } from './deps.ts';
import { saveDocument } from './documents.ts';
import { toActivityFailure } from './failures.ts';
import { heartbeating } from './heartbeats.ts';
import { enqueueWebhookEvents } from './outbound-webhooks.ts';
import type { FetchedState } from './sessions.ts';

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
  if (!steps)
    throw ApplicationFailure.create({
      type: FailureType.providerRejected,
      message: `Provider ${provider} has no template steps`,
      nonRetryable: true,
    });
  return steps;
}

export function progressOf(completed: number, total: number, message: string, retrying = false): VerificationProgress {
  return {
    currentStep: completed,
    totalSteps: total,
    percentage: total === 0 ? 100 : Math.round((completed / total) * 100),
    message,
    ...(retrying ? { retrying } : {}),
  };
}

/** The message a client reads while a provider outage is retried; `retrying` is what code branches on. */
export function providerRetryMessage(what: string, attempt: number): string {
  return `Provider service temporarily unavailable; retrying ${what} (attempt ${attempt})`;
}

/** Session creation failing before any step is known: progress says so, at step 0 of 0. */
export async function noteSessionRetry(db: Database, verificationId: string, attempt: number): Promise<void> {
  await saveProgress(db, verificationId, {
    currentStep: 0,
    totalSteps: 0,
    percentage: 0,
    message: providerRetryMessage('session creation', attempt),
    retrying: true,
  });
}

/** The step's personal data (ID checks) from the row, so it never travels through workflow history. */
async function applicantOf(db: Database, verificationId: string): Promise<StepApplicant | null> {
  const [row] = await db.select({ applicant: verifications.applicant }).from(verifications).where(eq(verifications.id, verificationId));
  return row?.applicant ?? null;
}

async function saveProgress(db: Database, verificationId: string, progress: VerificationProgress): Promise<void> {
  await db.update(verifications).set({ progress, updatedAt: new Date() }).where(eq(verifications.id, verificationId));
  await noticeVerificationChanged(db, verificationId);
}

export function createStepActivities({ db, providers, logger }: ActivityDeps) {
  return {
    listTemplateSteps: heartbeating(
      async ({ provider, templateId }: { provider: ProviderName; templateId: string | null }): Promise<{ steps: TemplateStep[] }> => {
        // The synced cache first (seed 001: no provider call per verification); the provider when the
        // template is not cached. A deactivated template still resolves: the verification was created with it.
        if (templateId !== null) {
          const [cached] = await db
            .select({ steps: providerTemplates.steps })
            .from(providerTemplates)
            .where(and(eq(providerTemplates.provider, provider), eq(providerTemplates.externalId, templateId)));
          if (cached && cached.steps.length > 0) return { steps: cached.steps.map(({ key, name }) => ({ key, name })) };
        }
        try {
          return { steps: await stepsOf(providers, provider).listSteps(templateId) };
        } catch (err) {
          throw toActivityFailure(err);
        }
      },
    ),

    runTemplateStep: heartbeating(async (request: StepRequest): Promise<{ webhookDeliveryIds: string[] }> => {
      const { verificationId, stepIndex, totalSteps, step } = request;
      const attempt = Context.current().info.attempt;
      if (stepIndex === 0 && attempt === 1) await saveProgress(db, verificationId, progressOf(0, totalSteps, `Starting ${step.name}`));
      const applicant = await applicantOf(db, verificationId);
      try {
        await stepsOf(providers, request.provider).runStep({
          providerRef: request.providerRef,
          templateId: request.templateId,
          step,
          stepIndex,
          idempotencyKey: `veriflow-${verificationId}-step-${stepIndex}`,
          applicant,
        });
      } catch (err) {
        const failure = toActivityFailure(err);
        const final = failure instanceof ApplicationFailure && failure.nonRetryable;
        const providerDown = failure instanceof ApplicationFailure && failure.type === FailureType.providerUnavailable;
        const message = final ? `${step.name} was rejected by the provider` : providerRetryMessage(step.name, attempt);
        await saveProgress(db, verificationId, progressOf(stepIndex, totalSteps, message, providerDown));
        logger.warn(
          { verificationId, step: step.key, attempt, err },
          final ? 'template step rejected' : 'template step failed; will retry',
        );
        throw failure;
      }
      const next = stepIndex + 1 < totalSteps ? `${step.name} completed` : 'All steps completed; awaiting the provider decision';
      // Progress and its `verification.step.completed` webhook commit together; the workflow starts the delivery.
      const webhookDeliveryIds = await db.transaction(async (tx) => {
        await saveProgress(tx, verificationId, progressOf(stepIndex + 1, totalSteps, next));
        return enqueueWebhookEvents(tx, verificationId, [{ type: 'verification.step.completed', seq: stepIndex + 1 }]);
      });
      logger.info({ verificationId, step: step.key, stepIndex, totalSteps }, 'template step completed');
      return { webhookDeliveryIds };
    }),

    finalizeSession: heartbeating(async (request: Omit<StepRequest, 'stepIndex' | 'totalSteps' | 'step'>): Promise<FetchedState> => {
      let state;
      try {
        state = await stepsOf(providers, request.provider).finalize({ providerRef: request.providerRef, templateId: request.templateId });
      } catch (err) {
        throw toActivityFailure(err);
      }
      if (state.document)
        await saveDocument(db, {
          verificationId: request.verificationId,
          document: state.document,
          sourceEventId: null,
          onlyIfMissing: false,
        });
      const [row] = await db
        .select({ progress: verifications.progress })
        .from(verifications)
        .where(eq(verifications.id, request.verificationId));
      if (row?.progress) {
        const { totalSteps } = row.progress;
        await saveProgress(
          db,
          request.verificationId,
          progressOf(totalSteps, totalSteps, `All steps completed; provider decision: ${state.providerStatus}`),
        );
      }
      return { providerStatus: state.providerStatus, status: state.status, reasons: state.reasons, fetchedAt: new Date().toISOString() };
    }),
  };
}
