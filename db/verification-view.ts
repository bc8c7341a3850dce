// A verification as clients see it (GET /v1/verifications/:id, and the `data` of outbound
// webhooks): rows in, JSON out, typed by the one public schema (domain/verification-json.ts).
// Pure, so the API and the activities share one shape. Status, provider and source columns are
// plain text; the workflow, their only writer, validated them, so they are typed here.
import { DOCUMENT_FIELDS } from '../domain/identity-document.ts';
import type { EventSource, ProviderName, VerificationStatus } from '../domain/verification.ts';
import type {
  VerificationDocumentJson,
  VerificationHistoryJson,
  VerificationJson,
  VerificationSummaryJson,
} from '../domain/verification-json.ts';
import type { Verification, VerificationDocument, VerificationHistoryEntry } from './schema/index.ts';

// Fields are picked one by one: a column added for internal use never leaks to clients.
function toDocumentJson(doc: VerificationDocument | undefined): VerificationDocumentJson | null {
  if (!doc) return null;
  return Object.fromEntries(DOCUMENT_FIELDS.map((field) => [field, doc[field]])) as VerificationDocumentJson;
}

export function toVerificationSummaryJson(row: Verification, doc: VerificationDocument | undefined): VerificationSummaryJson {
  const progress = row.progress;
  return {
    id: row.id,
    provider: row.provider as ProviderName,
    status: row.status as VerificationStatus,
    providerStatus: row.providerStatus,
    providerRef: row.providerRef,
    reference: row.reference,
    sessionUrl: row.sessionUrl,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    progress: progress
      ? { currentStep: progress.currentStep, totalSteps: progress.totalSteps, percentage: progress.percentage, message: progress.message }
      : null,
    result: row.result
      ? { decision: row.result.decision as VerificationStatus, reasons: row.result.reasons, document: toDocumentJson(doc) }
      : null,
    metadata: row.metadata,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function toVerificationJson(
  row: Verification,
  history: VerificationHistoryEntry[],
  doc: VerificationDocument | undefined,
): VerificationJson {
  const { createdAt, updatedAt, ...summary } = toVerificationSummaryJson(row, doc);
  return {
    ...summary,
    history: history.map((h): VerificationHistoryJson => ({
      at: h.at.toISOString(),
      source: h.source as EventSource,
      eventId: h.eventId,
      from: h.fromStatus as VerificationStatus | null,
      to: h.toStatus as VerificationStatus,
      applied: h.applied,
      reason: h.reason,
    })),
    createdAt,
    updatedAt,
  };
}
