// What veriflow sends out: webhooks to the client's endpoint, emails to the applicant.
import { index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, timestamptz, updatedAt } from './columns.ts';
import { tenants } from './tenants.ts';
import { verifications } from './verifications.ts';

/** One endpoint per tenant (PUT replaces its URL). */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: uuid().primaryKey().defaultRandom(),
    tenantId: uuid()
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    url: text().notNull(),
    /**
     * `whsec_<base64 of 24 random bytes>` (Standard Webhooks). Stored as is: signing needs the key
     * itself, so it cannot be hashed like an API key.
     */
    secret: text().notNull(),
    /**
     * The secret a rotation replaced, still signing (beside the new one) until
     * previousSecretExpiresAt (OUTBOUND_SECRET_GRACE), so receivers can switch without a gap.
     */
    previousSecret: text(),
    previousSecretExpiresAt: timestamptz(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('webhook_endpoints_tenant_id_idx').on(t.tenantId)],
);

/**
 * `pending` (not yet attempted, or re-queued) -> `succeeded` | `failed` (an attempt failed, the next
 * is scheduled at nextAttemptAt) -> `dead` (the retry schedule ran out; POST …/retry re-queues it).
 */
export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'succeeded', 'failed', 'dead'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid().primaryKey().defaultRandom(),
    tenantId: uuid()
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    verificationId: uuid()
      .notNull()
      .references(() => verifications.id, { onDelete: 'cascade' }),
    /** verification.created | verification.step.completed | verification.status_changed | verification.completed | verification.failed */
    eventType: text().notNull(),
    /**
     * What the event is about, so an activity retry inserts it once: the history entry's seq for
     * status events, the completed step's number for step events.
     */
    eventSeq: integer().notNull(),
    /**
     * The event's place among its verification's outbound events (1, 2, 3, …), in the body as
     * `seq`: deliveries of one verification are sent in this order, each after the previous one
     * succeeded or went dead.
     */
    seq: integer().notNull(),
    /** The full body as sent, `{ type, timestamp, seq, data }`; every attempt sends these bytes. */
    payload: jsonb().$type<Record<string, unknown>>().notNull(),
    status: text({ enum: WEBHOOK_DELIVERY_STATUSES }).notNull().default('pending'),
    /** Attempts over the delivery's whole life, manual retries included. */
    attempts: integer().notNull().default(0),
    lastStatusCode: integer(),
    lastError: text(),
    lastAttemptAt: timestamptz(),
    nextAttemptAt: timestamptz(),
    /** Bumped by each manual retry: a run of an older generation stops instead of sending twice. */
    generation: integer().notNull().default(0),
    /** The outbound sweeper's claim on a pending row whose delivery run never started (a lease across API replicas). */
    nextSweepAt: timestamptz(),
    createdAt: createdAt(),
    deliveredAt: timestamptz(),
  },
  (t) => [
    uniqueIndex('webhook_deliveries_verification_id_event_type_event_seq_idx').on(t.verificationId, t.eventType, t.eventSeq),
    uniqueIndex('webhook_deliveries_verification_id_seq_idx').on(t.verificationId, t.seq),
    // The tenant's listing, newest first, with keyset pagination like /v1/verifications.
    index('webhook_deliveries_tenant_id_created_at_id_idx').on(t.tenantId, t.createdAt.desc(), t.id.desc()),
    index('webhook_deliveries_tenant_id_status_idx').on(t.tenantId, t.status),
  ],
);

export const EMAIL_DELIVERY_STATUSES = ['sent', 'failed'] as const;

/** Emails to applicants (seed 002: the hosted link by email, and whether it went out). */
export const emailDeliveries = pgTable(
  'email_deliveries',
  {
    id: uuid().primaryKey().defaultRandom(),
    verificationId: uuid()
      .notNull()
      .references(() => verifications.id, { onDelete: 'cascade' }),
    /** Which email: `session_link` (the hosted link). One row per verification and kind. */
    kind: text().notNull(),
    /** The recipient, copied from the applicant when sent: it is our database, not workflow history. */
    to: text().notNull(),
    status: text({ enum: EMAIL_DELIVERY_STATUSES }).notNull(),
    attempts: integer().notNull().default(0),
    /** The Message-ID the SMTP server accepted. */
    providerMessageId: text(),
    error: text(),
    sentAt: timestamptz(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('email_deliveries_verification_id_kind_idx').on(t.verificationId, t.kind)],
);

export type WebhookEndpoint = typeof webhookEndpoints.$inferSelect;
export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;
export type NewWebhookDelivery = typeof webhookDeliveries.$inferInsert;
export type EmailDelivery = typeof emailDeliveries.$inferSelect;
