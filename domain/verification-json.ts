// The public verification JSON, as one TypeBox schema: GET /v1/verifications/:id answers it (and
// /openapi.json documents it), and the `data` of every outbound webhook is it without `history`
// (db/verification-view.ts builds both, typed by these schemas), so the two cannot drift.
import { Type, type Static } from '@sinclair/typebox';
import { DOCUMENT_FIELDS, type DocumentField } from './identity-document.ts';
import { EVENT_SOURCES, PROVIDER_NAMES, VERIFICATION_STATUSES } from './verification.ts';

// An `enum` of strings: one schema keyword in OpenAPI, and the right union type in TypeScript.
const literals = <T extends readonly string[]>(values: T) => Type.Unsafe<T[number]>(Type.String({ enum: [...values] }));
const NullableString = Type.Union([Type.String(), Type.Null()]);
const Timestamp = Type.String({ format: 'date-time' });

export const ProviderNameSchema = literals(PROVIDER_NAMES);
export const StatusSchema = literals(VERIFICATION_STATUSES);

export const HistoryEntrySchema = Type.Object({
  at: Timestamp,
  source: literals(EVENT_SOURCES),
  eventId: NullableString,
  from: Type.Union([StatusSchema, Type.Null()]),
  to: StatusSchema,
  applied: Type.Boolean(),
  reason: NullableString,
});

export const DocumentSchema = Type.Object(
  Object.fromEntries(DOCUMENT_FIELDS.map((field) => [field, NullableString])) as Record<DocumentField, typeof NullableString>,
);

export const VerificationSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    provider: ProviderNameSchema,
    status: StatusSchema,
    providerStatus: NullableString,
    providerRef: NullableString,
    reference: NullableString,
    sessionUrl: NullableString,
    expiresAt: Type.Union([Timestamp, Type.Null()]),
    progress: Type.Union([
      Type.Object({ currentStep: Type.Integer(), totalSteps: Type.Integer(), percentage: Type.Number(), message: Type.String() }),
      Type.Null(),
    ]),
    result: Type.Union([
      Type.Object({ decision: StatusSchema, reasons: Type.Array(Type.String()), document: Type.Union([DocumentSchema, Type.Null()]) }),
      Type.Null(),
    ]),
    metadata: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    history: Type.Array(HistoryEntrySchema),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { $id: 'Verification' },
);
export type VerificationJson = Static<typeof VerificationSchema>;

/** A verification without its history: list items, and the `data` of outbound webhooks. */
export const VerificationSummarySchema = Type.Omit(VerificationSchema, ['history']);
export type VerificationSummaryJson = Static<typeof VerificationSummarySchema>;
export type VerificationHistoryJson = Static<typeof HistoryEntrySchema>;
export type VerificationDocumentJson = Static<typeof DocumentSchema>;
