import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { timestamptz } from './columns.ts';
import { verifications } from './verifications.ts';

/**
 * Life of an inbound webhook: `received` (stored) -> `delivered` (signalled to the workflow) ->
 * `applied` | `stale` | `duplicate` | `unconfirmed` | `ignored` (the workflow's verdict;
 * `unconfirmed`: a body its signature does not cover, which no read could confirm). `unmatched`
 * and `late` never reach a workflow; `failed` is an event that could not be processed;
 * `undeliverable` is one the sweeper gave up signalling after SWEEPER_MAX_ATTEMPTS (reason in
 * error_message; an operator re-drives it with `npm run webhooks -- redrive`).
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
  'undeliverable',
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
    /**
     * The normalised event the workflow is signalled with (a ProviderEvent), built once at intake:
     * the sweeper re-sends it as stored and needs no provider adapter. Null for events that carry
     * no status, and for rows stored before this column existed (the sweeper marks those
     * undeliverable; a re-drive parses them once).
     */
    event: jsonb().$type<Record<string, unknown>>(),
    signatureValid: boolean().notNull(),
    receivedAt: timestamptz().notNull().defaultNow(),
    deliveredAt: timestamptz(),
    processedAt: timestamptz(),
    outcome: text({ enum: WEBHOOK_EVENT_OUTCOMES }).notNull().default('received'),
    errorMessage: text(),
    correlationId: text(),
    /** Signals that failed because of this row (not because Temporal was unreachable). */
    deliveryAttempts: integer().notNull().default(0),
    /**
     * The sweeper leaves the row alone until then: a sweeper's claim (a lease, so replicas never
     * signal the same row at once) or the wait after a failed attempt. Null: due now.
     */
    nextSweepAt: timestamptz(),
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
