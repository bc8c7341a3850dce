// A verification as clients see it (GET /v1/verifications/:id, and the `data` of outbound
// webhooks): rows in, JSON out. Pure, so the API and the activities share one shape; db/ may not
// import the domain, so statuses are plain strings here and the API types them.
import type { Verification, VerificationDocument, VerificationHistoryEntry } from './schema/index.js';

export interface VerificationDocumentJson {
  type: string | null;
  idClass: string | null;
  number: string | null;
  expiresAt: string | null;
  issuedAt: string | null;
  issuingAuthority: string | null;
  country: string | null;
  firstName: string | null;
  middleName: string | null;
  lastName: string | null;
  birthdate: string | null;
  sex: string | null;
  nationality: string | null;
  address: string | null;
}

export interface VerificationHistoryJson {
  at: string;
  source: string;
  eventId: string | null;
  from: string | null;
  to: string;
  applied: boolean;
  reason: string | null;
}

export interface VerificationJson {
  id: string;
  provider: string;
  status: string;
  providerStatus: string | null;
  providerRef: string | null;
  reference: string | null;
  sessionUrl: string | null;
  expiresAt: string | null;
  progress: { currentStep: number; totalSteps: number; percentage: number; message: string } | null;
  result: { decision: string; reasons: string[]; document: VerificationDocumentJson | null } | null;
  metadata: Record<string, unknown> | null;
  history: VerificationHistoryJson[];
  createdAt: string;
  updatedAt: string;
}

export type VerificationSummaryJson = Omit<VerificationJson, 'history'>;

// Fields are picked one by one: a column added for internal use never leaks to clients.
function toDocumentJson(doc: VerificationDocument | undefined): VerificationDocumentJson | null {
  if (!doc) return null;
  return {
    type: doc.type,
    idClass: doc.idClass,
    number: doc.number,
    expiresAt: doc.expiresAt,
    issuedAt: doc.issuedAt,
    issuingAuthority: doc.issuingAuthority,
    country: doc.country,
    firstName: doc.firstName,
    middleName: doc.middleName,
    lastName: doc.lastName,
    birthdate: doc.birthdate,
    sex: doc.sex,
    nationality: doc.nationality,
    address: doc.address,
  };
}

export function toVerificationSummaryJson(row: Verification, doc: VerificationDocument | undefined): VerificationSummaryJson {
  const progress = row.progress;
  return {
    id: row.id,
    provider: row.provider,
    status: row.status,
    providerStatus: row.providerStatus,
    providerRef: row.providerRef,
    reference: row.reference,
    sessionUrl: row.sessionUrl,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    progress: progress
      ? { currentStep: progress.currentStep, totalSteps: progress.totalSteps, percentage: progress.percentage, message: progress.message }
      : null,
    result: row.result ? { decision: row.result.decision, reasons: row.result.reasons, document: toDocumentJson(doc) } : null,
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
    history: history.map((h) => ({
      at: h.at.toISOString(),
      source: h.source,
      eventId: h.eventId,
      from: h.fromStatus,
      to: h.toStatus,
      applied: h.applied,
      reason: h.reason,
    })),
    createdAt,
    updatedAt,
  };
}
