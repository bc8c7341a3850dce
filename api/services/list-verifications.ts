// Filtered, newest first, keyset-paginated (keyset-cursor.ts).
import { and, desc, eq, gte, lte, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { verifications, type Verification } from '../../db/schema/index.ts';
import { DEFAULT_PAGE_SIZE } from '../schemas.ts';
import { afterCursor, encodeCursor } from './keyset-cursor.ts';

export interface ListFilters {
  status?: string;
  provider?: string;
  reference?: string;
  createdAfter?: string;
  createdBefore?: string;
  expiresAfter?: string;
  expiresBefore?: string;
  limit?: number;
  cursor?: string;
}

export async function listVerifications(
  db: Database,
  tenantId: string,
  filters: ListFilters,
): Promise<{ rows: Verification[]; nextCursor: string | null }> {
  const conditions: SQL[] = [eq(verifications.tenantId, tenantId)];
  if (filters.status) conditions.push(eq(verifications.status, filters.status));
  if (filters.provider) conditions.push(eq(verifications.provider, filters.provider));
  if (filters.reference) conditions.push(eq(verifications.reference, filters.reference));
  if (filters.createdAfter) conditions.push(gte(verifications.createdAt, new Date(filters.createdAfter)));
  if (filters.createdBefore) conditions.push(lte(verifications.createdAt, new Date(filters.createdBefore)));
  if (filters.expiresAfter) conditions.push(gte(verifications.expiresAt, new Date(filters.expiresAfter)));
  if (filters.expiresBefore) conditions.push(lte(verifications.expiresAt, new Date(filters.expiresBefore)));
  if (filters.cursor) {
    conditions.push(afterCursor(verifications, filters.cursor));
  }
  const limit = filters.limit ?? DEFAULT_PAGE_SIZE;
  const rows = await db
    .select()
    .from(verifications)
    .where(and(...conditions))
    .orderBy(desc(verifications.createdAt), desc(verifications.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  return { rows: page, nextCursor: rows.length > limit ? encodeCursor(page.at(-1)!) : null };
}
