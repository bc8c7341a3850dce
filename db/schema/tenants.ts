import { index, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, timestamptz } from './columns.ts';

export const tenants = pgTable('tenants', {
  id: uuid().primaryKey().defaultRandom(),
  name: text().notNull().unique('tenants_name_unique'),
  /** Providers this tenant may use; null means every provider. */
  allowedProviders: text().array(),
  createdAt: createdAt(),
});

export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid().primaryKey().defaultRandom(),
    tenantId: uuid()
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    /** sha256 hex of the key: a leaked table must not leak usable keys. */
    keyHash: text().notNull().unique('api_keys_key_hash_unique'),
    /** First 8 characters, so an operator can tell keys apart without seeing them. */
    keyPrefix: text().notNull(),
    createdAt: createdAt(),
    revokedAt: timestamptz(),
  },
  (t) => [index('api_keys_tenant_id_idx').on(t.tenantId)],
);

export type Tenant = typeof tenants.$inferSelect;
export type NewTenant = typeof tenants.$inferInsert;
export type ApiKey = typeof apiKeys.$inferSelect;
export type NewApiKey = typeof apiKeys.$inferInsert;
