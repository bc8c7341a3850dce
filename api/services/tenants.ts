// Tenants and their API keys. Keys are shown once and stored as sha256 hashes: a database
// leak does not leak working keys.
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { apiKeys, tenants } from '../../db/schema/index.ts';
import type { ProviderName } from '../../domain/verification.ts';

export const DEV_TENANT_NAME = 'dev';
/** Enough of a key to tell keys apart in listings (`vf_live_` + 8 random chars), never enough to use it. */
export const KEY_PREFIX_LENGTH = 16;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function generateApiKey(): string {
  return `vf_live_${randomBytes(24).toString('base64url')}`;
}

export interface Tenant {
  id: string;
  name: string;
  allowedProviders: string[] | null;
  /** The key this request authenticated with (who did what, e.g. an erasure record). */
  apiKeyId: string;
}

export async function tenantForApiKey(db: Database, key: string): Promise<Tenant | null> {
  const [row] = await db
    .select({ id: tenants.id, name: tenants.name, allowedProviders: tenants.allowedProviders, apiKeyId: apiKeys.id })
    .from(apiKeys)
    .innerJoin(tenants, eq(apiKeys.tenantId, tenants.id))
    .where(and(eq(apiKeys.keyHash, hashApiKey(key)), isNull(apiKeys.revokedAt)));
  return row ?? null;
}

export interface NewTenantOptions {
  apiKey?: string;
  /** Providers the tenant may use; omitted means every provider. */
  allowedProviders?: ProviderName[] | null;
}

export async function createTenant(
  db: Database,
  name: string,
  options: NewTenantOptions = {},
): Promise<{ tenantId: string; apiKey: string }> {
  const apiKey = options.apiKey ?? generateApiKey();
  return db.transaction(async (tx) => {
    const [tenant] = await tx
      .insert(tenants)
      .values({ name, allowedProviders: options.allowedProviders ?? null })
      .returning({ id: tenants.id });
    await tx.insert(apiKeys).values({ tenantId: tenant!.id, keyHash: hashApiKey(apiKey), keyPrefix: apiKey.slice(0, KEY_PREFIX_LENGTH) });
    return { tenantId: tenant!.id, apiKey };
  });
}

/** The `dev` tenant whose key is VERIFLOW_DEV_API_KEY; idempotent, so every `npm run dev` may call it. */
export async function ensureDevTenant(db: Database, apiKey: string): Promise<string> {
  const existing = await tenantForApiKey(db, apiKey);
  if (existing) return existing.id;
  const [tenant] = await db.insert(tenants).values({ name: DEV_TENANT_NAME }).onConflictDoNothing().returning({ id: tenants.id });
  const tenantId = tenant?.id ?? (await db.select({ id: tenants.id }).from(tenants).where(eq(tenants.name, DEV_TENANT_NAME)))[0]!.id;
  await db
    .insert(apiKeys)
    .values({ tenantId, keyHash: hashApiKey(apiKey), keyPrefix: apiKey.slice(0, KEY_PREFIX_LENGTH) })
    .onConflictDoNothing();
  return tenantId;
}
