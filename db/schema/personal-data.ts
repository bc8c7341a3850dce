// Who erased a verification's personal data, and when: the audit record an erasure leaves behind
// (it holds no personal data itself). One per verification, so a repeated erasure finds it.
import { index, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { ERASURE_TRIGGERS } from '../../domain/personal-data-erasure.ts';
import { apiKeys, tenants } from './tenants.ts';
import { timestamptz } from './columns.ts';
import { verifications } from './verifications.ts';

export const personalDataErasures = pgTable(
  'personal_data_erasures',
  {
    verificationId: uuid()
      .primaryKey()
      .references(() => verifications.id, { onDelete: 'cascade' }),
    tenantId: uuid()
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    erasedAt: timestamptz().notNull().defaultNow(),
    erasedBy: text({ enum: ERASURE_TRIGGERS }).notNull(),
    /** The key that asked (erasedBy `api_key`); kept as a reference when the key is later deleted. */
    apiKeyId: uuid().references(() => apiKeys.id, { onDelete: 'set null' }),
  },
  (t) => [index('personal_data_erasures_tenant_id_erased_at_idx').on(t.tenantId, t.erasedAt)],
);

export type PersonalDataErasure = typeof personalDataErasures.$inferSelect;
