import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import type { Database } from '../../db/client.ts';
import { unauthorized } from '../errors.ts';
import { tenantForApiKey, type Tenant } from '../services/tenants.ts';

declare module 'fastify' {
  interface FastifyRequest {
    tenant: Tenant;
  }
}

export function presentedKey(request: FastifyRequest): string | null {
  const auth = request.headers.authorization;
  if (auth) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return match ? match[1]! : null;
  }
  const header = request.headers['x-api-key'];
  return typeof header === 'string' && header.length > 0 ? header : null;
}

/** Bearer (or X-API-Key) auth for every route registered inside this plugin's scope. */
export const apiKeyAuth = fp<{ db: Database }>(async (app, { db }) => {
  app.decorateRequest('tenant', null as unknown as Tenant);
  app.addHook('onRequest', async (request) => {
    const key = presentedKey(request);
    if (!key) {
      throw unauthorized({
        code: 'missing_api_key',
        detail: 'No API key was sent',
        action: "Send 'Authorization: Bearer <api key>'.",
      });
    }
    const tenant = await tenantForApiKey(db, key);
    if (!tenant) {
      throw unauthorized({
        code: 'invalid_api_key',
        detail: 'The API key is not valid',
        action: 'Check the key, or create one with `npm run tenants -- create <name>`.',
      });
    }
    request.tenant = tenant;
  });
});
