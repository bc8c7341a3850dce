// Provider-facing activities: create the session, read the authoritative state.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { eq } from 'drizzle-orm';
import { verifications } from '../db/schema/index.ts';
import type { ProviderName, VerificationStatus } from '../domain/verification.ts';
import { FailureType } from '../domain/failures.ts';
import type { ActivityDeps } from './deps.ts';
import { noticeVerificationChanged } from '../db/change-notice.ts';
import { saveDocument } from './documents.ts';
import { toActivityFailure } from './failures.ts';
import { heartbeating } from './heartbeats.ts';
import { noteSessionRetry } from './steps.ts';

export interface CreateSessionRequest {
  verificationId: string;
  provider: ProviderName;
  templateId: string | null;
  sessionTtlMs: number;
}

/** No session URL here: it is a bearer credential and stays in Postgres, out of workflow history. */
export interface CreatedSession {
  providerRef: string;
  expiresAt: string | null;
  providerStatus: string;
  status: VerificationStatus;
}

export interface FetchStateRequest {
  verificationId: string;
  provider: ProviderName;
  providerRef: string;
  /** The last look before the session expires: outside the read budget, as it decides the outcome once per verification. */
  beforeExpiry?: boolean;
}

export interface FetchedState {
  providerStatus: string;
  status: VerificationStatus;
  reasons: string[];
  /** When we read it: the fetched state is the provider's truth as of this instant. */
  fetchedAt: string;
}

function earliest(a: string | null, b: string): string {
  return a !== null && Date.parse(a) < Date.parse(b) ? a : b;
}

export function createSessionActivities({ db, providers, logger, metrics, readBudget }: ActivityDeps) {
  return {
    createProviderSession: heartbeating(async (request: CreateSessionRequest): Promise<CreatedSession> => {
      const { verificationId, provider } = request;
      const [row] = await db.select().from(verifications).where(eq(verifications.id, verificationId));
      if (!row) {
        throw ApplicationFailure.create({
          type: FailureType.verificationNotFound,
          message: `Verification ${verificationId} not found`,
          nonRetryable: true,
        });
      }
      // A retry after the session was saved must not create a second provider session.
      if (row.providerRef !== null && row.providerStatus !== null) {
        return {
          providerRef: row.providerRef,
          expiresAt: row.expiresAt?.toISOString() ?? null,
          providerStatus: row.providerStatus,
          status: row.status as VerificationStatus,
        };
      }
      let session;
      try {
        session = await providers.get(provider).createSession({
          verificationId,
          templateId: request.templateId,
          idempotencyKey: `veriflow-session-${verificationId}`,
        });
      } catch (err) {
        const failure = toActivityFailure(err);
        // Template providers report progress: a client waiting on the session learns the provider is down.
        if (providers.get(provider).steps && failure instanceof ApplicationFailure && failure.type === FailureType.providerUnavailable) {
          await noteSessionRetry(db, verificationId, Context.current().info.attempt);
        }
        throw failure;
      }
      const adapter = providers.get(provider);
      const expiresAt = adapter.capabilities.sessionExpiry
        ? earliest(session.expiresAt, new Date(Date.now() + request.sessionTtlMs).toISOString())
        : null;
      await db
        .update(verifications)
        .set({
          providerRef: session.providerRef,
          sessionUrl: session.sessionUrl,
          expiresAt: expiresAt === null ? null : new Date(expiresAt),
          providerStatus: session.providerStatus,
          updatedAt: new Date(),
        })
        .where(eq(verifications.id, verificationId));
      await noticeVerificationChanged(db, verificationId);
      logger.info({ verificationId, provider, providerRef: session.providerRef }, 'provider session created');
      return { providerRef: session.providerRef, expiresAt, providerStatus: session.providerStatus, status: session.status };
    }),

    /**
     * Reads the provider's state; the document it returns is saved here so it never enters
     * workflow history. Past the read budget the read is not made and not retried: the workflow
     * treats it as a failed read (applies the signed body, reads again soon).
     */
    async fetchProviderState(request: FetchStateRequest): Promise<FetchedState> {
      const { provider } = request;
      if (readBudget && !request.beforeExpiry && !(await readBudget.take(provider))) {
        metrics?.providerReads.inc({ provider, outcome: 'over_budget' });
        throw ApplicationFailure.create({
          type: FailureType.providerReadOverBudget,
          message: `${provider} read budget spent (PROVIDER_READS_PER_SECOND)`,
          nonRetryable: true,
        });
      }
      let state;
      try {
        state = await providers.get(provider).fetchState(request.providerRef);
        metrics?.providerReads.inc({ provider, outcome: 'made' });
      } catch (err) {
        metrics?.providerReads.inc({ provider, outcome: 'failed' });
        throw toActivityFailure(err);
      }
      if (state.document)
        await saveDocument(db, {
          verificationId: request.verificationId,
          document: state.document,
          sourceEventId: null,
          onlyIfMissing: false,
        });
      return { providerStatus: state.providerStatus, status: state.status, reasons: state.reasons, fetchedAt: new Date().toISOString() };
    },
  };
}
