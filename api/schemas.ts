// TypeBox schemas for every route: request validation, response serialization (strips
// accidental fields) and the OpenAPI document, from one definition.
import { Type, type Static } from '@sinclair/typebox';
import { ERASURE_TRIGGERS, type ErasedBy } from '../domain/personal-data-erasure.ts';
import { PROVIDER_NAMES } from '../domain/verification.ts';
import { ProviderNameSchema, StatusSchema, VerificationSummarySchema } from '../domain/verification-json.ts';

// An `enum` of strings: one schema keyword in OpenAPI, and the right union type in TypeScript.
const literals = <T extends readonly string[]>(values: T) => Type.Unsafe<T[number]>(Type.String({ enum: [...values] }));
const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);
const NullableString = Nullable(Type.String());
const Timestamp = Type.String({ format: 'date-time' });

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

// Documented under the media type they are sent as (api/problem.ts), so a typed client and the
// document agree with the wire; fastify picks this serializer by the reply's content type.
export const problemResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [
      s,
      { description: 'Problem details', content: { 'application/problem+json': { schema: Type.Ref(ProblemSchema) } } },
    ]),
  );

export const CreateVerificationBody = Type.Object(
  {
    provider: Type.String({ description: `One of ${PROVIDER_NAMES.join(', ')}`, minLength: 1, maxLength: 64 }),
    reference: Type.Optional(
      Type.String({ maxLength: 255, description: "Your own id for the applicant (e.g. your user id). Don't put personal data here." }),
    ),
    templateId: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 255,
        description: "The provider's template id; a default per provider applies when omitted.",
      }),
    ),
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
    notify: Type.Optional(
      Type.Object(
        {
          email: Type.Optional(
            Type.Boolean({
              description:
                'Email the hosted link (sessionUrl) to `applicant.email` as soon as the provider session exists; requires `applicant.email`.',
            }),
          ),
        },
        {
          additionalProperties: false,
          description:
            'Notifications veriflow sends the applicant. The email is recorded (sent or failed) but its address never leaves our database.',
        },
      ),
    ),
    metadata: Type.Optional(
      Type.Record(
        Type.String({ maxLength: 40 }),
        Type.Union([Type.String({ maxLength: 500 }), Type.Number(), Type.Boolean(), Type.Null()]),
        {
          maxProperties: 50,
          description:
            'Your own key-value data, returned as given: up to 50 keys (≤ 40 chars), values strings (≤ 500 chars), numbers, booleans or null.',
        },
      ),
    ),
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
    sessionUrl: Type.Union([Type.String(), Type.Null()], {
      description: "The provider's hosted flow; null until the provider session exists.",
    }),
    statusUrl: Type.String(),
    eventsUrl: Type.String(),
    createdAt: Timestamp,
  },
  { $id: 'CreatedVerification' },
);
export type CreatedVerification = Static<typeof CreatedVerification>;

export const VerificationParams = Type.Object({ id: Type.String({ format: 'uuid', description: 'Verification id' }) });

export const ReviewBody = Type.Object(
  {
    decision: Type.Union([Type.Literal('approved'), Type.Literal('declined')]),
    reason: Type.String({ minLength: 1, maxLength: 1000 }),
  },
  { additionalProperties: false },
);

export const CancelBody = Type.Union([
  Type.Object({ reason: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false }),
  Type.Null(),
]);

export const WebhookAck = Type.Object({ received: Type.Literal(true), duplicate: Type.Boolean() });

export const HealthBody = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  checks: Type.Optional(Type.Record(Type.String(), Type.Object({ ok: Type.Boolean(), detail: Type.Optional(Type.String()) }))),
  providers: Type.Optional(
    Type.Array(ProviderNameSchema, { description: 'The providers this API is configured for (API key and webhook secret both set)' }),
  ),
});

export const DEFAULT_PAGE_SIZE = 20;
// Optional for the client (documented as such); validation fills in the default.
const PageSize = Type.Optional(
  Type.Integer({ minimum: 1, maximum: 100, default: DEFAULT_PAGE_SIZE, description: `Page size; ${DEFAULT_PAGE_SIZE} when omitted` }),
);

export const ListQuery = Type.Object(
  {
    status: Type.Optional(StatusSchema),
    provider: Type.Optional(ProviderNameSchema),
    reference: Type.Optional(Type.String({ maxLength: 255 })),
    createdAfter: Type.Optional(Type.String({ format: 'date-time', description: 'Inclusive' })),
    createdBefore: Type.Optional(Type.String({ format: 'date-time', description: 'Inclusive' })),
    expiresAfter: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'Session expiry at or after this instant; verifications without a session are left out',
      }),
    ),
    expiresBefore: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'Session expiry at or before this instant (with `status=pending` and `expiresAfter=now`: expiring soon)',
      }),
    ),
    limit: PageSize,
    cursor: Type.Optional(Type.String({ maxLength: 200, description: 'nextCursor from the previous page' })),
  },
  { additionalProperties: false },
);

export const VerificationListSchema = Type.Object({
  data: Type.Array(VerificationSummarySchema, {
    description: 'Newest first; items are verifications without their history',
  }),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const TemplateStepSchema = Type.Object({ key: Type.String(), name: Type.String() });

export const TemplateSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  provider: ProviderNameSchema,
  externalId: Type.String({ description: "The provider's template id: pass it as `templateId` when creating a verification" }),
  name: Type.String(),
  steps: Type.Array(TemplateStepSchema, { description: 'In the order the verification runs them' }),
  active: Type.Boolean({ description: 'False once the provider stopped listing it' }),
});

export const TemplateListQuery = Type.Object(
  {
    provider: Type.Optional(ProviderNameSchema),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const TemplateListSchema = Type.Object({ data: Type.Array(TemplateSchema) });

export const TemplateSyncQuery = Type.Object({ provider: Type.Optional(ProviderNameSchema) }, { additionalProperties: false });

export const TemplateSyncSummarySchema = Type.Object({
  synced: Type.Integer({ description: 'Templates the provider listed (all upserted)' }),
  deactivated: Type.Integer({ description: 'Templates no longer listed, now inactive' }),
  durationMs: Type.Integer(),
});

export const VerifyByIdBody = Type.Object(
  {
    verificationType: Type.Union([Type.Literal('philippines_nbi_clearance'), Type.Literal('philippines_prc')]),
    idNumber: Type.String({ minLength: 1, maxLength: 100, description: 'NBI clearance number or PRC licence number' }),
    userData: Type.Object(
      {
        firstName: Type.String({ minLength: 1, maxLength: 200 }),
        lastName: Type.String({ minLength: 1, maxLength: 200 }),
        dateOfBirth: Type.String({ format: 'date', description: 'YYYY-MM-DD' }),
      },
      { additionalProperties: false },
    ),
    reference: Type.Optional(Type.String({ maxLength: 255, description: "Your own id for the applicant. Don't put personal data here." })),
  },
  { additionalProperties: false },
);
export type VerifyByIdBody = Static<typeof VerifyByIdBody>;

// Outbound webhooks (to the client's endpoint).
export const WEBHOOK_DELIVERY_STATUS_VALUES = ['pending', 'succeeded', 'failed', 'dead'] as const;

export const WebhookEndpointBody = Type.Object(
  {
    url: Type.String({ format: 'uri', maxLength: 2048, description: 'http(s) URL that receives the events' }),
    rotateSecret: Type.Optional(
      Type.Boolean({
        description:
          'Issue a new signing secret; the old one keeps signing beside it (a second `webhook-signature` entry) for OUTBOUND_SECRET_GRACE (24 h)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const WebhookEndpointSchema = Type.Object({
  url: Type.String(),
  secret: Type.String({ description: 'Standard Webhooks signing secret, `whsec_…`' }),
  previousSecretExpiresAt: Type.Union([Timestamp, Type.Null()], {
    description: 'Until then the secret replaced by the last rotation still signs too; null when none does',
  }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const WebhookEventTypeSchema = literals([
  'verification.created',
  'verification.step.completed',
  'verification.status_changed',
  'verification.completed',
  'verification.failed',
  'verification.personal_data_erased',
] as const);

export const WebhookDeliverySchema = Type.Object({
  id: Type.String({ format: 'uuid', description: 'Also the `webhook-id` header of every attempt' }),
  verificationId: Type.String({ format: 'uuid' }),
  eventType: WebhookEventTypeSchema,
  status: literals(WEBHOOK_DELIVERY_STATUS_VALUES),
  attempts: Type.Integer(),
  lastStatusCode: Type.Union([Type.Integer(), Type.Null()]),
  lastError: NullableString,
  lastAttemptAt: Type.Union([Timestamp, Type.Null()]),
  nextAttemptAt: Type.Union([Timestamp, Type.Null()]),
  createdAt: Timestamp,
  deliveredAt: Type.Union([Timestamp, Type.Null()]),
  payload: Type.Record(Type.String(), Type.Unknown(), { description: 'The body as sent: `{ type, timestamp, seq, data }`' }),
});

export const WebhookReplayBody = Type.Object(
  {
    since: Type.String({ format: 'date-time', description: 'Deliveries created at or after this time' }),
    until: Type.String({ format: 'date-time', description: 'Deliveries created before this time' }),
    status: Type.Optional(
      Type.Unsafe<'succeeded' | 'failed' | 'dead'>(
        Type.String({
          enum: ['succeeded', 'failed', 'dead'],
          description: 'Only deliveries in this status (e.g. `dead` to recover what an outage lost); default: all but pending',
        }),
      ),
    ),
  },
  { additionalProperties: false },
);

export const WebhookReplaySchema = Type.Object({
  replayed: Type.Integer({ description: 'Deliveries re-queued' }),
  started: Type.Integer({ description: 'Of those, runs started now; the outbound sweeper starts the rest after OUTBOUND_SWEEP_AFTER' }),
});

export const WebhookDeliveryListQuery = Type.Object(
  {
    status: Type.Optional(literals(WEBHOOK_DELIVERY_STATUS_VALUES)),
    verificationId: Type.Optional(Type.String({ format: 'uuid' })),
    limit: PageSize,
    cursor: Type.Optional(Type.String({ maxLength: 200, description: 'nextCursor from the previous page' })),
  },
  { additionalProperties: false },
);

export const WebhookDeliveryListSchema = Type.Object({
  data: Type.Array(WebhookDeliverySchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const WebhookDeliveryParams = Type.Object({ id: Type.String({ format: 'uuid', description: 'Delivery id' }) });

export const PersonalDataErasureSchema = Type.Object(
  {
    verificationId: Type.String({ format: 'uuid' }),
    erasedAt: Type.String({ format: 'date-time' }),
    erasedBy: Type.Unsafe<ErasedBy>(
      Type.String({
        enum: [...ERASURE_TRIGGERS],
        description: '`api_key`: erased on request; `retention`: RETENTION_PERSONAL_DATA after the decision',
      }),
    ),
    apiKeyPrefix: Type.Union([Type.String(), Type.Null()], {
      description: 'The first characters of the key that asked (erasedBy `api_key`)',
    }),
  },
  { description: 'The erasure record: who erased the personal data, and when' },
);
