// TypeBox schemas for every route: request validation, response serialization (strips
// accidental fields) and the OpenAPI document, from one definition.
import { Type, type Static } from '@sinclair/typebox';
import { EVENT_SOURCES, PROVIDER_NAMES, VERIFICATION_STATUSES } from '../domain/verification.js';

// An `enum` of strings: one schema keyword in OpenAPI, and the right union type in TypeScript.
const literals = <T extends readonly string[]>(values: T) => Type.Unsafe<T[number]>(Type.String({ enum: [...values] }));
const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);
const NullableString = Nullable(Type.String());
const Timestamp = Type.String({ format: 'date-time' });

export const ProviderNameSchema = literals(PROVIDER_NAMES);
export const StatusSchema = literals(VERIFICATION_STATUSES);

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    action: Type.Optional(Type.String()),
    correlationId: Type.String(),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details' },
);

export const problemResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, Type.Ref(ProblemSchema)]));

export const CreateVerificationBody = Type.Object(
  {
    provider: Type.String({ description: `One of ${PROVIDER_NAMES.join(', ')}`, minLength: 1, maxLength: 64 }),
    reference: Type.Optional(Type.String({ maxLength: 255, description: "Your own id for the applicant (e.g. your user id). Don't put personal data here." })),
    templateId: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: "The provider's template id; a default per provider applies when omitted." })),
    applicant: Type.Optional(
      Type.Object(
        {
          firstName: Type.Optional(Type.String({ maxLength: 200 })),
          lastName: Type.Optional(Type.String({ maxLength: 200 })),
          email: Type.Optional(Type.String({ format: 'email', maxLength: 320 })),
          country: Type.Optional(Type.String({ minLength: 2, maxLength: 2, description: 'ISO 3166-1 alpha-2' })),
        },
        { additionalProperties: false },
      ),
    ),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Free-form; returned as given.' })),
  },
  { additionalProperties: false },
);
export type CreateVerificationBody = Static<typeof CreateVerificationBody>;

export const CreatedVerification = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    status: StatusSchema,
    provider: ProviderNameSchema,
    reference: NullableString,
    sessionUrl: Type.Union([Type.String(), Type.Null()], { description: "The provider's hosted flow; null until the provider session exists." }),
    statusUrl: Type.String(),
    eventsUrl: Type.String(),
    createdAt: Timestamp,
  },
  { $id: 'CreatedVerification' },
);
export type CreatedVerification = Static<typeof CreatedVerification>;

export const HistoryEntrySchema = Type.Object({
  at: Timestamp,
  source: literals(EVENT_SOURCES),
  eventId: NullableString,
  from: Type.Union([StatusSchema, Type.Null()]),
  to: StatusSchema,
  applied: Type.Boolean(),
  reason: NullableString,
});

export const DocumentSchema = Type.Object({
  type: NullableString,
  idClass: NullableString,
  number: NullableString,
  expiresAt: NullableString,
  issuedAt: NullableString,
  issuingAuthority: NullableString,
  country: NullableString,
  firstName: NullableString,
  middleName: NullableString,
  lastName: NullableString,
  birthdate: NullableString,
  sex: NullableString,
  nationality: NullableString,
  address: NullableString,
});

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
export type VerificationBody = Static<typeof VerificationSchema>;

export const VerificationParams = Type.Object({ id: Type.String({ format: 'uuid', description: 'Verification id' }) });

export const ReviewBody = Type.Object(
  {
    decision: Type.Union([Type.Literal('approved'), Type.Literal('declined')]),
    reason: Type.String({ minLength: 1, maxLength: 1000 }),
  },
  { additionalProperties: false },
);

export const CancelBody = Type.Union([Type.Object({ reason: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false }), Type.Null()]);

export const WebhookAck = Type.Object({ received: Type.Literal(true), duplicate: Type.Boolean() });

export const HealthBody = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  checks: Type.Optional(Type.Record(Type.String(), Type.Object({ ok: Type.Boolean(), detail: Type.Optional(Type.String()) }))),
});

export const ListQuery = Type.Object(
  {
    status: Type.Optional(StatusSchema),
    provider: Type.Optional(ProviderNameSchema),
    reference: Type.Optional(Type.String({ maxLength: 255 })),
    createdAfter: Type.Optional(Type.String({ format: 'date-time', description: 'Inclusive' })),
    createdBefore: Type.Optional(Type.String({ format: 'date-time', description: 'Inclusive' })),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(Type.String({ maxLength: 200, description: 'nextCursor from the previous page' })),
  },
  { additionalProperties: false },
);

export const VerificationListSchema = Type.Object({
  data: Type.Array(Type.Omit(VerificationSchema, ['history']), { description: 'Newest first; items are verifications without their history' }),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
