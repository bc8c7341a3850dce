import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { timestamptz } from './columns.js';
import { verifications } from './verifications.js';

/**
 * Life of an inbound webhook: `received` (stored) -> `delivered` (signalled to the workflow) ->
 * `applied` | `stale` | `duplicate` | `unconfirmed` | `ignored` (the workflow's verdict;
 * `unconfirmed`: a body its signature does not cover, which no read could confirm). `unmatched` and `late`
 * never reach a workflow; `failed` is an event that could not be processed.
 */
export const WEBHOOK_EVENT_OUTCOMES = [
  'received',
  'delivered',
  'applied',
  'stale',
  'duplicate',
  'unconfirmed',
  'unmatched',
  'late',
  'ignored',
  'failed',
] as const;
export type WebhookEventOutcome = (typeof WEBHOOK_EVENT_OUTCOMES)[number];

/** Every inbound provider webhook with a valid signature: the audit trail and the delivery queue. */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    id: uuid().primaryKey().defaultRandom(),
    provider: text().notNull(),
    providerEventId: text().notNull(),
    eventType: text(),
    // Kept when the verification is deleted: the audit trail outlives it.
    verificationId: uuid().references(() => verifications.id, { onDelete: 'set null' }),
    providerRef: text(),
    occurredAt: timestamptz(),
    payload: jsonb().$type<unknown>().notNull(),
    signatureValid: boolean().notNull(),
    receivedAt: timestamptz().notNull().defaultNow(),
    deliveredAt: timestamptz(),
    processedAt: timestamptz(),
    outcome: text({ enum: WEBHOOK_EVENT_OUTCOMES }).notNull().default('received'),
    errorMessage: text(),
    correlationId: text(),
    deliveryAttempts: integer().notNull().default(0),
  },
  (t) => [
    // The dedupe key: a provider retrying a delivery stores nothing new.
    uniqueIndex('webhook_events_provider_provider_event_id_idx').on(t.provider, t.providerEventId),
    // The sweeper's queue (stored but never signalled) stays small, so index only that.
    index('webhook_events_undelivered_idx')
      .on(t.receivedAt)
      .where(sql`${t.deliveredAt} is null and ${t.outcome} = 'received'`),
    // A verification's events (its audit view) and the `set null` on delete.
    index('webhook_events_verification_id_idx').on(t.verificationId),
  ],
);

export type WebhookEvent = typeof webhookEvents.$inferSelect;
export type NewWebhookEvent = typeof webhookEvents.$inferInsert;
