import { bigint, boolean, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { DOCUMENT_FIELDS, type DocumentField } from '../../domain/identity-document.ts';
import { createdAt, timestamptz, updatedAt } from './columns.ts';
import { tenants } from './tenants.ts';

// Status and source columns are plain text: the workflow is the only writer, so it is the one
// place that validates them against domain/'s vocabularies.

export interface VerificationProgress {
  currentStep: number;
  totalSteps: number;
  percentage: number;
  message: string;
  /** True while a provider call keeps failing and is being retried (the API answers 503 to waiting clients). */
  retrying?: boolean;
}

export interface VerificationResult {
  decision: string;
  reasons: string[];
}

export interface VerificationApplicant {
  firstName?: string;
  lastName?: string;
  email?: string;
  country?: string;
  /** ID-number checks (verify-by-id): sent to the provider by the step activity, never returned by the API. */
  dateOfBirth?: string;
  idNumber?: string;
}

export const verifications = pgTable(
  'verifications',
  {
    // Supplied by the app: the id is chosen before the workflow starts, so the workflow id and
    // the row can be created idempotently from it.
    id: uuid().primaryKey(),
    tenantId: uuid()
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    provider: text().notNull(),
    status: text().notNull().default('created'),
    providerStatus: text(),
    providerRef: text(),
    reference: text(),
    templateId: text(),
    sessionUrl: text(),
    expiresAt: timestamptz(),
    progress: jsonb().$type<VerificationProgress>(),
    result: jsonb().$type<VerificationResult>(),
    metadata: jsonb().$type<Record<string, unknown>>(),
    applicant: jsonb().$type<VerificationApplicant>(),
    /** Email the hosted link to applicant.email once the session exists (POST notify.email). */
    notifyByEmail: boolean().notNull().default(false),
    idempotencyKey: text(),
    /** Hash of the creating request body: same Idempotency-Key with another body is a 422. */
    requestHash: text(),
    workflowId: text().notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('verifications_tenant_id_idempotency_key_idx').on(t.tenantId, t.idempotencyKey),
    uniqueIndex('verifications_provider_provider_ref_idx').on(t.provider, t.providerRef),
    // Keyset pagination, newest first: `order by created_at desc, id desc` with the cursor
    // condition `(created_at, id) < ($1, $2)`; both columns descend so one row comparison works.
    index('verifications_tenant_id_created_at_id_idx').on(t.tenantId, t.createdAt.desc(), t.id.desc()),
    index('verifications_tenant_id_status_idx').on(t.tenantId, t.status),
    index('verifications_tenant_id_reference_idx').on(t.tenantId, t.reference),
    // Seed 002's "expiring soon" / "all expired": the list's expiresAfter / expiresBefore range.
    index('verifications_tenant_id_expires_at_idx').on(t.tenantId, t.expiresAt),
  ],
);

export const verificationHistory = pgTable(
  'verification_history',
  {
    id: bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    verificationId: uuid()
      .notNull()
      .references(() => verifications.id, { onDelete: 'cascade' }),
    /** Order assigned by the workflow; unique per verification so a retried activity inserts once. */
    seq: integer().notNull(),
    at: timestamptz().notNull(),
    /** api | webhook | poll | timer | operator */
    source: text().notNull(),
    /** The provider's event id, when the entry comes from a provider event. */
    eventId: text(),
    fromStatus: text(),
    toStatus: text().notNull(),
    /** False for events recorded but not applied (stale, duplicate, terminal). */
    applied: boolean().notNull(),
    reason: text(),
  },
  (t) => [uniqueIndex('verification_history_verification_id_seq_idx').on(t.verificationId, t.seq)],
);

const documentColumn = () => text();
/** One text column per DOCUMENT_FIELDS entry, named and ordered as listed there. Dates are text, as providers send them. */
const documentColumns = () =>
  Object.fromEntries(DOCUMENT_FIELDS.map((field) => [field, documentColumn()])) as Record<DocumentField, ReturnType<typeof documentColumn>>;

export const verificationDocuments = pgTable('verification_documents', {
  verificationId: uuid()
    .primaryKey()
    .references(() => verifications.id, { onDelete: 'cascade' }),
  ...documentColumns(),
  /** The webhook event the data was taken from, to explain where a value came from. */
  sourceEventId: text(),
  updatedAt: updatedAt(),
});

export type Verification = typeof verifications.$inferSelect;
export type NewVerification = typeof verifications.$inferInsert;
export type VerificationHistoryEntry = typeof verificationHistory.$inferSelect;
export type NewVerificationHistoryEntry = typeof verificationHistory.$inferInsert;
export type VerificationDocument = typeof verificationDocuments.$inferSelect;
export type NewVerificationDocument = typeof verificationDocuments.$inferInsert;
