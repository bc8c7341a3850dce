import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { verificationDocuments } from '../db/schema/index.ts';
import { DOCUMENT_FIELDS, type DocumentData } from '../domain/identity-document.ts';

export interface SaveDocumentInput {
  verificationId: string;
  document: DocumentData;
  sourceEventId: string | null;
  /** Stale events only fill fields that are still empty (seed 000): never overwrite newer data. */
  onlyIfMissing: boolean;
}

export async function saveDocument(db: Database, input: SaveDocumentInput): Promise<void> {
  const { document, onlyIfMissing } = input;
  const values = Object.fromEntries(DOCUMENT_FIELDS.map((f) => [f, document[f]]));
  // Per field: a newer document wins where it has a value; a stale one only fills gaps.
  const merge = Object.fromEntries(
    DOCUMENT_FIELDS.map((f) => {
      const current = verificationDocuments[f];
      // `excluded` is not a table drizzle knows, so name its column the way casing: 'snake_case' does.
      const incoming = sql`excluded.${sql.identifier(f.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`))}`;
      const merged = onlyIfMissing ? sql`coalesce(${current}, ${incoming})` : sql`coalesce(${incoming}, ${current})`;
      return [f, merged];
    }),
  );
  await db
    .insert(verificationDocuments)
    .values({ verificationId: input.verificationId, ...values, sourceEventId: input.sourceEventId, updatedAt: new Date() })
    .onConflictDoUpdate({
      target: verificationDocuments.verificationId,
      set: { ...merge, ...(onlyIfMissing ? {} : { sourceEventId: input.sourceEventId }), updatedAt: new Date() },
    });
}
