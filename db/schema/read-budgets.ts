import { doublePrecision, pgTable, text } from 'drizzle-orm/pg-core';
import { timestamptz } from './columns.ts';

/**
 * The provider read budget every worker process shares (activities/read-budget.ts): one token
 * bucket per provider, refilled on the database's clock, so N workers together read a provider at
 * its configured rate, not N times it. A row appears with a provider's first read.
 */
export const providerReadBudgets = pgTable('provider_read_budgets', {
  provider: text().primaryKey(),
  /** Reads that may be made now (fractional between refills). */
  tokens: doublePrecision().notNull(),
  refilledAt: timestamptz().notNull(),
});
