// Template sync, shared by the scheduled activity, POST /v1/templates/sync and the CLI: list every
// template at the provider, upsert them all, mark the ones it no longer lists inactive. db/ knows no
// providers, so the caller passes the provider's list function.
import { and, eq, inArray, not, sql } from 'drizzle-orm';
import type { Database } from './client.ts';
import { providerTemplates, type TemplateStepRecord } from './schema/index.ts';

/** A template as a provider lists it (structurally the providers' ProviderTemplate). */
export interface ListedTemplate {
  externalId: string;
  name: string;
  steps: TemplateStepRecord[];
  active: boolean;
  metadata: Record<string, unknown>;
}

export interface TemplateSyncSummary {
  /** Templates the provider listed, all upserted. */
  synced: number;
  /** Templates that were active here and are no longer listed. */
  deactivated: number;
  durationMs: number;
}

export interface TemplateSyncInput {
  provider: string;
  listTemplates: () => Promise<ListedTemplate[]>;
  now?: () => Date;
}

// Eight parameters a row keeps a chunk well under Postgres' 65,535 bind parameters.
const UPSERT_CHUNK = 500;

/**
 * Nothing is written unless the whole listing arrived: a provider failing on page 3 must not
 * deactivate the templates of pages 3 and later. The writes are one transaction.
 */
export async function syncProviderTemplates(db: Database, input: TemplateSyncInput): Promise<TemplateSyncSummary> {
  const now = input.now ?? (() => new Date());
  const started = performance.now();
  const listed = dedupe(await input.listTemplates());
  const syncedAt = now();

  const deactivated = await db.transaction(async (tx) => {
    for (let offset = 0; offset < listed.length; offset += UPSERT_CHUNK) {
      const chunk = listed.slice(offset, offset + UPSERT_CHUNK);
      await tx
        .insert(providerTemplates)
        .values(
          chunk.map((t) => ({
            provider: input.provider,
            externalId: t.externalId,
            name: t.name,
            steps: t.steps,
            active: t.active,
            metadata: t.metadata,
            syncedAt,
            updatedAt: syncedAt,
          })),
        )
        .onConflictDoUpdate({
          target: [providerTemplates.provider, providerTemplates.externalId],
          set: {
            name: sql`excluded.name`,
            steps: sql`excluded.steps`,
            active: sql`excluded.active`,
            metadata: sql`excluded.metadata`,
            syncedAt: sql`excluded.synced_at`,
            updatedAt: sql`excluded.updated_at`,
          },
        });
    }
    const missing = and(
      eq(providerTemplates.provider, input.provider),
      eq(providerTemplates.active, true),
      listed.length === 0
        ? undefined
        : not(
            inArray(
              providerTemplates.externalId,
              listed.map((t) => t.externalId),
            ),
          ),
    );
    const rows = await tx
      .update(providerTemplates)
      .set({ active: false, updatedAt: syncedAt })
      .where(missing)
      .returning({ id: providerTemplates.id });
    return rows.length;
  });

  return { synced: listed.length, deactivated, durationMs: Math.round(performance.now() - started) };
}

/** A template listed twice (pagination shifting under us) is one template: the later listing wins. */
function dedupe(templates: ListedTemplate[]): ListedTemplate[] {
  return [...new Map(templates.map((t) => [t.externalId, t])).values()];
}
