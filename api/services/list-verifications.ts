// Keyset pagination, newest first: the cursor is the last row's (createdAt, id), so pages stay
// stable while new verifications arrive.
import { and, desc, eq, gte, lt, lte, or, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { verifications, type Verification } from '../../db/schema/index.js';
import { BadRequestError } from '../errors.js';

export interface ListFilters {
  status?: string;
  provider?: string;
  reference?: string;
  createdAfter?: string;
  createdBefore?: string;
  limit: number;
  cursor?: string;
}

interface Cursor {
  createdAt: Date;
  id: string;
}

function encodeCursor(row: Verification): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string): Cursor {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || Number.isNaN(createdAt.getTime())) {
    throw new BadRequestError({ code: 'invalid_cursor', detail: `Cursor '${cursor}' is not one this API issued`, action: 'Pass nextCursor from the previous page unchanged.' });
  }
  return { createdAt, id };
}

export async function listVerifications(db: Database, tenantId: string, filters: ListFilters): Promise<{ rows: Verification[]; nextCursor: string | null }> {
  const conditions: SQL[] = [eq(verifications.tenantId, tenantId)];
  if (filters.status) conditions.push(eq(verifications.status, filters.status));
  if (filters.provider) conditions.push(eq(verifications.provider, filters.provider));
  if (filters.reference) conditions.push(eq(verifications.reference, filters.reference));
  if (filters.createdAfter) conditions.push(gte(verifications.createdAt, new Date(filters.createdAfter)));
  if (filters.createdBefore) conditions.push(lte(verifications.createdAt, new Date(filters.createdBefore)));
  if (filters.cursor) {
    const { createdAt, id } = decodeCursor(filters.cursor);
    conditions.push(or(lt(verifications.createdAt, createdAt), and(eq(verifications.createdAt, createdAt), lt(verifications.id, id)))!);
  }
  const rows = await db
    .select()
    .from(verifications)
    .where(and(...conditions))
    .orderBy(desc(verifications.createdAt), desc(verifications.id))
    .limit(filters.limit + 1);
  const page = rows.slice(0, filters.limit);
  return { rows: page, nextCursor: rows.length > filters.limit ? encodeCursor(page.at(-1)!) : null };
}
