// Erasing one verification's personal data from every table that holds it. What stays is what an
// audit needs and what carries no personal data: status, provider refs, the status history, the
// normalised events (status and reason codes) and the erasure record itself.
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { ErasedBy } from '../domain/personal-data-erasure.ts';
import type { Database } from './client.ts';
import {
  emailDeliveries,
  personalDataErasures,
  verificationDocuments,
  verifications,
  webhookDeliveries,
  webhookEvents,
  type PersonalDataErasure,
} from './schema/index.ts';
import { webhookEventsLockedInIdOrder } from './webhook-row-locks.ts';

/** A stored webhook body after erasure (the guard migration stores late webhooks the same way). */
export const ERASED_PAYLOAD = { personalDataErased: true } as const;

export function isErasedPayload(payload: unknown): boolean {
  return typeof payload === 'object' && payload !== null && (payload as Record<string, unknown>).personalDataErased === true;
}

export interface ErasureRequest {
  verificationId: string;
  erasedBy: ErasedBy;
  apiKeyId: string | null;
}

/**
 * Erases and records, in the caller's transaction; idempotent (a second call changes nothing and
 * returns the first record). Null when the verification does not exist. The exclusive advisory
 * lock serialises it with the guard triggers (migration 0006 takes it shared), so no concurrent
 * writer can slip personal data in behind it. An advisory lock, not the verification row: row
 * locks taken by concurrent webhook inserts deadlocked with each other on the dedupe index.
 */
export async function erasePersonalDataRows(tx: Database, request: ErasureRequest): Promise<PersonalDataErasure | null> {
  const { verificationId } = request;
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${verificationId}::text, 0))`);
  const [row] = await tx
    .select({ tenantId: verifications.tenantId })
    .from(verifications)
    .where(eq(verifications.id, verificationId))
    .for('update');
  if (!row) return null;
  const [existing] = await tx.select().from(personalDataErasures).where(eq(personalDataErasures.verificationId, verificationId));
  if (existing) return existing;

  // The request hash is a hash of the applicant too; without it a replayed Idempotency-Key is a 422.
  await tx.update(verifications).set({ applicant: null, metadata: null, requestHash: null }).where(eq(verifications.id, verificationId));
  await tx.delete(verificationDocuments).where(eq(verificationDocuments.verificationId, verificationId));
  await tx
    .update(webhookEvents)
    .set({ payload: ERASED_PAYLOAD })
    .where(inArray(webhookEvents.id, webhookEventsLockedInIdOrder(tx, eq(webhookEvents.verificationId, verificationId))));
  await tx.update(emailDeliveries).set({ to: '' }).where(eq(emailDeliveries.verificationId, verificationId));
  // Bodies already sent keep their event and status; the applicant's document and metadata go.
  await tx
    .update(webhookDeliveries)
    .set({
      payload: sql`jsonb_set(jsonb_set(${webhookDeliveries.payload}, '{data,metadata}', 'null', false), '{data,result,document}', 'null', false)`,
    })
    .where(eq(webhookDeliveries.verificationId, verificationId));
  const [recorded] = await tx
    .insert(personalDataErasures)
    .values({ verificationId, tenantId: row.tenantId, erasedBy: request.erasedBy, apiKeyId: request.apiKeyId })
    .returning();
  return recorded!;
}

export async function findErasure(db: Database, tenantId: string, verificationId: string): Promise<PersonalDataErasure | null> {
  const [row] = await db
    .select()
    .from(personalDataErasures)
    .where(and(eq(personalDataErasures.verificationId, verificationId), eq(personalDataErasures.tenantId, tenantId)));
  return row ?? null;
}
