import { boolean, index, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, timestamptz, updatedAt } from './columns.ts';

/** One step of a template as the provider orders it (IDmeta: a plan, e.g. `document`). */
export interface TemplateStepRecord {
  key: string;
  name: string;
}

/**
 * Templates of multi-step providers (IDmeta trust flows), cached from the provider's API: creating
 * a verification validates against this table without a provider call, and keeps working while the
 * provider is down. Refreshed every 24 h by a Temporal schedule, on demand by POST /v1/templates/sync.
 */
export const providerTemplates = pgTable(
  'provider_templates',
  {
    id: uuid().primaryKey().defaultRandom(),
    provider: text().notNull(),
    /** The provider's id, what clients pass as `templateId`. */
    externalId: text().notNull(),
    name: text().notNull(),
    steps: jsonb().$type<TemplateStepRecord[]>().notNull().default([]),
    /** False once the provider stopped listing it; kept so verifications that used it still resolve. */
    active: boolean().notNull().default(true),
    /** Provider details (position in the provider's listing, description, …); never secrets. */
    metadata: jsonb().$type<Record<string, unknown>>(),
    /** When a sync last saw it at the provider. */
    syncedAt: timestamptz().notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // The upsert key of a sync.
    uniqueIndex('provider_templates_provider_external_id_idx').on(t.provider, t.externalId),
    index('provider_templates_provider_active_idx').on(t.provider, t.active),
  ],
);

export type ProviderTemplateRow = typeof providerTemplates.$inferSelect;
export type NewProviderTemplateRow = typeof providerTemplates.$inferInsert;
