// Templates of multi-step providers (IDmeta trust flows) as the API sees them: the synced cache in
// provider_templates, the template a verification runs, and a sync on demand.
import { and, asc, count, eq, sql } from 'drizzle-orm';
import { providerTemplates, type ProviderTemplateRow } from '../../db/schema/index.ts';
import { syncProviderTemplates, type TemplateSyncSummary } from '../../db/template-sync.ts';
import { PROVIDER_NAMES, type ProviderName } from '../../domain/verification.ts';
import { ProviderRequestError } from '../../providers/errors.ts';
import type { MultiStepApi } from '../../providers/types.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError, badRequest, serviceUnavailable } from '../errors.ts';

/** Configured providers that have templates. */
export function templateProviderNames(deps: Pick<AppDeps, 'providers'>): ProviderName[] {
  return PROVIDER_NAMES.filter((name) => deps.providers.has(name) && deps.providers.get(name).steps !== undefined);
}

export function templateNotFound(provider: ProviderName, detail: string): ApiError {
  return badRequest({
    code: 'template_not_found',
    detail,
    action: `GET /v1/templates?provider=${provider} lists the available templates; POST /v1/templates/sync refreshes them.`,
  });
}

export function providerUnavailable(): ApiError {
  return serviceUnavailable({
    code: 'provider_unavailable',
    detail: 'Provider service temporarily unavailable',
    action: 'Retry in a few minutes; templates already synced stay in use.',
  });
}

// The provider's own order: `metadata.position` is the template's place in its listing.
const providerOrder = [
  asc(sql`coalesce((${providerTemplates.metadata}->>'position')::int, 2147483647)`),
  asc(providerTemplates.externalId),
];

export async function listCachedTemplates(
  deps: AppDeps,
  filter: { provider?: ProviderName; active?: boolean },
): Promise<ProviderTemplateRow[]> {
  const conditions = [
    filter.provider === undefined ? undefined : eq(providerTemplates.provider, filter.provider),
    filter.active === undefined ? undefined : eq(providerTemplates.active, filter.active),
  ];
  return deps.database.db
    .select()
    .from(providerTemplates)
    .where(and(...conditions))
    .orderBy(asc(providerTemplates.provider), ...providerOrder);
}

/** Syncs one provider through its adapter; a provider outage is a 503 and leaves the cache as it was. */
export async function syncTemplatesOf(deps: AppDeps, provider: ProviderName, steps: MultiStepApi): Promise<TemplateSyncSummary> {
  try {
    const summary = await syncProviderTemplates(deps.database.db, { provider, listTemplates: () => steps.listTemplates() });
    deps.logger.info({ provider, ...summary }, 'templates synced');
    return summary;
  } catch (err) {
    if (!(err instanceof ProviderRequestError)) throw err;
    deps.logger.warn({ provider, err }, 'template sync failed');
    throw Object.assign(providerUnavailable(), { cause: err });
  }
}

/** Sync every template provider (or the one named), the counts added up. */
export async function syncTemplates(deps: AppDeps, only?: ProviderName): Promise<TemplateSyncSummary> {
  const names = templateProviderNames(deps);
  if (only !== undefined && !names.includes(only)) {
    throw badRequest({
      code: 'templates_not_supported',
      detail: `Provider '${only}' has no templates or is not configured`,
      action: `Templates exist for: ${names.join(', ') || 'no configured provider'}.`,
    });
  }
  const started = performance.now();
  const total = { synced: 0, deactivated: 0 };
  for (const name of only === undefined ? names : [only]) {
    const summary = await syncTemplatesOf(deps, name, deps.providers.get(name).steps!);
    total.synced += summary.synced;
    total.deactivated += summary.deactivated;
  }
  return { ...total, durationMs: Math.round(performance.now() - started) };
}

/**
 * A fresh deployment has an empty cache until the schedule's first run: the first request fills
 * it, so creating a verification does not depend on the schedule having run.
 */
async function ensureCached(deps: AppDeps, provider: ProviderName, steps: MultiStepApi): Promise<void> {
  const [row] = await deps.database.db.select({ n: count() }).from(providerTemplates).where(eq(providerTemplates.provider, provider));
  if ((row?.n ?? 0) === 0) await syncTemplatesOf(deps, provider, steps);
}

/** Active cached templates of a provider, in the provider's order (filling an empty cache first). */
export async function activeTemplates(deps: AppDeps, provider: ProviderName): Promise<ProviderTemplateRow[]> {
  const steps = deps.providers.get(provider).steps;
  if (steps) await ensureCached(deps, provider, steps);
  return listCachedTemplates(deps, { provider, active: true });
}

/**
 * The template a new verification runs. Template providers: the requested one, else the configured
 * default, else the provider's first active template, and it must be an active synced template
 * (`Template 99999 not found`). Other providers: as requested or their default, unchecked.
 */
export async function resolveTemplateId(deps: AppDeps, provider: ProviderName, requested: string | undefined): Promise<string | null> {
  const wanted = requested ?? deps.defaultTemplates[provider];
  const steps = deps.providers.get(provider).steps;
  if (!steps) return wanted ?? null;
  await ensureCached(deps, provider, steps);
  const { db } = deps.database;
  if (wanted !== undefined) {
    const [found] = await db
      .select({ externalId: providerTemplates.externalId })
      .from(providerTemplates)
      .where(and(eq(providerTemplates.provider, provider), eq(providerTemplates.externalId, wanted), eq(providerTemplates.active, true)));
    if (!found) throw templateNotFound(provider, `Template ${wanted} not found`);
    return found.externalId;
  }
  const [first] = await db
    .select({ externalId: providerTemplates.externalId })
    .from(providerTemplates)
    .where(and(eq(providerTemplates.provider, provider), eq(providerTemplates.active, true)))
    .orderBy(...providerOrder)
    .limit(1);
  if (!first) throw templateNotFound(provider, `No active ${provider} template is synced`);
  return first.externalId;
}
