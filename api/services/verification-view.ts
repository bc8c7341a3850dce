// Reading a verification as the API shows it: row + history + document, tenant-scoped.
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { verificationDocuments, verificationHistory, verifications, type Verification } from '../../db/schema/index.ts';
import { toVerificationJson, toVerificationSummaryJson } from '../../db/verification-view.ts';
import type { VerificationJson, VerificationSummaryJson } from '../../domain/verification-json.ts';
import type { VerificationStatus } from '../../domain/verification.ts';
import type { CreatedVerification } from '../schemas.ts';

type Status = VerificationStatus;

export async function findVerification(db: Database, tenantId: string, id: string): Promise<Verification | null> {
  const [row] = await db
    .select()
    .from(verifications)
    .where(and(eq(verifications.id, id), eq(verifications.tenantId, tenantId)));
  return row ?? null;
}

export function verificationLinks(baseUrl: string, id: string) {
  return { statusUrl: `${baseUrl}/v1/verifications/${id}`, eventsUrl: `${baseUrl}/v1/verifications/${id}/events` };
}

export function toCreatedVerification(row: Verification, baseUrl: string): CreatedVerification {
  return {
    id: row.id,
    status: row.status as Status,
    provider: row.provider as CreatedVerification['provider'],
    reference: row.reference,
    sessionUrl: row.sessionUrl,
    ...verificationLinks(baseUrl, row.id),
    createdAt: row.createdAt.toISOString(),
  };
}

type VerificationDocumentRow = typeof verificationDocuments.$inferSelect;
type HistoryRow = typeof verificationHistory.$inferSelect;

// The row -> JSON mapping is shared with the outbound-webhook activities (db/verification-view.ts).
function toBody(row: Verification, history: HistoryRow[], doc: VerificationDocumentRow | undefined): VerificationJson {
  return toVerificationJson(row, history, doc);
}

export async function loadVerificationBody(db: Database, row: Verification): Promise<VerificationJson> {
  const [history, documents] = await Promise.all([
    db.select().from(verificationHistory).where(eq(verificationHistory.verificationId, row.id)).orderBy(asc(verificationHistory.seq)),
    db.select().from(verificationDocuments).where(eq(verificationDocuments.verificationId, row.id)),
  ]);
  return toBody(row, history, documents[0]);
}

/** A page of verifications as lists show them: everything but the history, in one query for the documents. */
export async function loadVerificationSummaries(db: Database, rows: Verification[]): Promise<VerificationSummaryJson[]> {
  const ids = rows.map((r) => r.id);
  const documents = ids.length
    ? await db.select().from(verificationDocuments).where(inArray(verificationDocuments.verificationId, ids))
    : [];
  const byId = new Map(documents.map((d) => [d.verificationId, d]));
  return rows.map((row) => toVerificationSummaryJson(row, byId.get(row.id)));
}
