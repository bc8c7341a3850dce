// Templates of multi-step providers: the synced cache (tenants), and a sync on demand (operators:
// it runs provider-wide with the platform's credentials; also every 24 h by a Temporal schedule
// and `npm run provider:sync-templates`).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { TemplateSyncSummary } from '../../db/template-sync.ts';
import type { ProviderName } from '../../domain/verification.ts';
import type { AppDeps } from '../deps.ts';
import { TemplateListQuery, TemplateListSchema, TemplateSyncQuery, TemplateSyncSummarySchema, problemResponses } from '../schemas.ts';
import { listCachedTemplates, syncTemplates } from '../services/templates.ts';

/** A tenant's: registered inside the API-key scope. */
export const tenantTemplateRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  app.get(
    '/v1/templates',
    {
      schema: {
        summary: 'List synced templates',
        description:
          "Templates of multi-step providers (IDmeta trust flows) as last synced, in the provider's order. " +
          'Pass `externalId` as `templateId` when creating a verification; inactive ones are no longer offered by the provider.',
        tags: ['templates'],
        querystring: TemplateListQuery,
        response: { 200: TemplateListSchema, ...problemResponses(400, 401) },
      },
    },
    async (request) => {
      const rows = await listCachedTemplates(deps, request.query);
      return {
        data: rows.map((row) => ({
          id: row.id,
          provider: row.provider as ProviderName,
          externalId: row.externalId,
          name: row.name,
          steps: row.steps,
          active: row.active,
        })),
      };
    },
  );
};

/** An operator's: registered inside the operator-token scope. */
export const operatorTemplateRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  // Concurrent requests for the same sync share one run (in this process) instead of each listing the provider.
  const running = new Map<string, Promise<TemplateSyncSummary>>();

  app.post(
    '/v1/templates/sync',
    {
      schema: {
        summary: 'Sync templates from the providers now',
        description:
          'Lists every template at the provider (all pages), upserts them and marks the ones no longer listed inactive. ' +
          'Without `provider`, every configured template provider; the counts are added up. 503 when the provider cannot be reached (the cache stays as it was). ' +
          'Operators only: `Authorization: Bearer <OPERATOR_TOKEN>` (403 when no operator token is configured). Concurrent requests share one run.',
        tags: ['templates'],
        querystring: TemplateSyncQuery,
        response: { 200: TemplateSyncSummarySchema, ...problemResponses(400, 401, 403, 503) },
      },
    },
    async (request) => {
      const key = request.query.provider ?? '*';
      let run = running.get(key);
      if (!run) {
        run = syncTemplates(deps, request.query.provider).finally(() => running.delete(key));
        running.set(key, run);
      }
      return run;
    },
  );
};
