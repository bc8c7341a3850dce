import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { ProviderName } from '../../domain/verification.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError, notFound } from '../errors.ts';
import { ProviderNameSchema } from '../../domain/verification-json.ts';
import { WebhookAck, problemResponses } from '../schemas.ts';
import type { WebhookDispatcher } from '../services/webhook-dispatcher.ts';
import { acceptWebhook } from '../services/webhook-intake.ts';

/** Metric outcome names for rejected deliveries. */
const REJECTION_OUTCOME: Record<string, string> = {
  invalid_signature: 'invalid',
  malformed_webhook: 'malformed',
  storage_unavailable: 'unavailable',
};

export const webhookRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps; webhooks: WebhookDispatcher }> = async (app, { deps, webhooks }) => {
  // Signatures are computed over the exact bytes sent, so the body stays a Buffer here.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.post(
    '/webhooks/:provider',
    {
      schema: {
        summary: 'Receive a provider webhook',
        description:
          'Signature checked on the raw body. 200 means stored durably (even if the workflow service is down; the event is delivered when it is back). ' +
          '`duplicate: true` when this provider event id was already received. Unknown references are stored as unmatched and answered 200. ' +
          'Only a failure to store answers 503, so the provider retries.',
        tags: ['webhooks'],
        params: Type.Object({ provider: ProviderNameSchema }),
        response: { 200: WebhookAck, ...problemResponses(400, 401, 404, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const provider: ProviderName = request.params.provider;
      const metrics = deps.metrics!;
      const stopTimer = metrics.webhookAckSeconds.startTimer({ provider });
      reply.raw.once('finish', () => stopTimer());
      if (!deps.providers.has(provider))
        throw notFound({
          detail: `Provider '${provider}' is not configured`,
          action: 'Set the provider credentials in the environment.',
        });
      const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      let result;
      try {
        result = await acceptWebhook(deps, provider, { rawBody, headers: request.headers }, String(request.id));
      } catch (err) {
        metrics.webhooksReceived.inc({ provider, outcome: err instanceof ApiError ? (REJECTION_OUTCOME[err.code] ?? err.code) : 'failed' });
        throw err;
      }
      metrics.webhooksReceived.inc({ provider, outcome: result.outcome });
      // The answer depends on verify + store only: the dispatcher signals the stored event apart, in batches.
      if (result.delivery) webhooks.nudge();
      return { received: true as const, duplicate: result.outcome === 'duplicate' };
    },
  );
};
