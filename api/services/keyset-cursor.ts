// Keyset pagination, newest first: the cursor is the last row's (createdAt, id), so pages stay
// stable while new rows arrive. A cursor is client input: anything this API did not issue is a
// 400 here, never a failed uuid or timestamp cast in the database.
import { and, eq, lt, or, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { badRequest } from '../errors.ts';

interface CursorRow {
  createdAt: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function encodeCursor(row: CursorRow): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string): CursorRow {
  const parts = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const [at = '', id = ''] = parts;
  const createdAt = new Date(at);
  if (parts.length !== 2 || !ISO_INSTANT.test(at) || Number.isNaN(createdAt.getTime()) || !UUID.test(id)) {
    throw badRequest({
      code: 'invalid_cursor',
      detail: `Cursor '${cursor}' is not one this API issued`,
      action: 'Pass nextCursor from the previous page unchanged.',
    });
  }
  return { createdAt, id };
}

/** Rows after the cursor in (createdAt desc, id desc) order; throws badRequest for a cursor we did not issue. */
export function afterCursor(columns: { createdAt: PgColumn; id: PgColumn }, cursor: string): SQL {
  const { createdAt, id } = decodeCursor(cursor);
  return or(lt(columns.createdAt, createdAt), and(eq(columns.createdAt, createdAt), lt(columns.id, id)))!;
}
