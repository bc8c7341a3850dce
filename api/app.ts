// The HTTP app as one function of its dependencies: plugins first, then routes. Tests build it
// against real services and drive it with app.inject().
import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { unstorableTextPath } from '../db/storable-json.ts';
import type { AppDeps } from './deps.ts';
import { rateLimitsFromEnv, sweeperFromEnv } from '../config/env.ts';
import { badRequest } from './errors.ts';
import { apiKeyAuth } from './plugins/auth.ts';
import { operatorAuth } from './plugins/operator-auth.ts';
import { registerRateLimit } from './plugins/rate-limit.ts';
import { registerProblemHandlers } from './problem.ts';
import { codecRoutes } from './routes/codec.ts';
import { eventRoutes } from './routes/events.ts';
import { personalDataRoutes } from './routes/personal-data.ts';
import { outboundWebhookRoutes } from './routes/outbound-webhooks.ts';
import { healthRoutes } from './routes/health.ts';
import { sessionRoutes } from './routes/sessions.ts';
import { operatorTemplateRoutes, tenantTemplateRoutes } from './routes/templates.ts';
import { verificationRoutes } from './routes/verifications.ts';
import { verifyByIdRoutes } from './routes/verify-by-id.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { ProblemSchema } from './schemas.ts';
import { buildValidator } from './validation.ts';
import { createMetrics, observeTaskQueuePollers } from '../wiring/metrics.ts';
import { recordHttpRoute } from '../wiring/tracing.ts';
import { ChangeFeed } from './services/change-feed.ts';
import { countTaskQueuePollers } from './services/task-queue-pollers.ts';
import { measureOutboundQueueAge } from './services/outbound-queue-age.ts';
import { countUndelivered } from './services/event-delivery.ts';
import { createWebhookDispatcher } from './services/webhook-dispatcher.ts';

const CORRELATION_HEADER = 'x-correlation-id';
const BODY_LIMIT = 1024 * 1024;

function correlationId(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  // Echo a sane client id; never let a header inject into logs.
  return value && /^[\w.:-]{1,128}$/.test(value) ? value : randomUUID();
}

export async function buildApp(appDeps: AppDeps): Promise<FastifyInstance> {
  const deps = { ...appDeps, metrics: appDeps.metrics ?? createMetrics() };
  // Worker absence is alerted on from the API's side: a dead worker serves no metrics of its own.
  observeTaskQueuePollers(deps.metrics.registry, () => countTaskQueuePollers(deps.temporal, deps.env));
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; naming the base type keeps plugin types default.
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    genReqId: (request) => correlationId(request.headers[CORRELATION_HEADER]),
    // Every request log line carries it under the name the rest of our logs use.
    logController: new LogController({ requestIdLogLabel: 'correlationId' }),
    // Unknown fields are an error the client should hear about, not something to drop silently.
    ajv: { customOptions: { removeAdditional: false } },
    schemaController: { compilersFactory: { buildValidator } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const webhooks =
    appDeps.webhooks ??
    createWebhookDispatcher({ db: deps.database.db, temporal: deps.temporal, metrics: deps.metrics, env: deps.env, logger: deps.logger });
  app.addHook('onRequest', async (request, reply) => {
    reply.header(CORRELATION_HEADER, request.id);
    recordHttpRoute(request.routeOptions.url);
  });
  const feed = new ChangeFeed(deps.database, deps.env.LIVE_DB_CONNECTIONS);
  app.addHook('onClose', async () => {
    await webhooks.stop();
    await feed.close();
  });

  // JSON only: any other content type is a 415, not a string body that fails validation later.
  app.removeContentTypeParser('text/plain');
  // Postgres text and jsonb cannot hold NUL or half a surrogate pair ("\ud83d"): say which field
  // with a 400 instead of failing at the insert.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    void parseJson(request, body as string, (err, value) => {
      const field = err ? null : unstorableTextPath(value);
      if (field === null) return done(err, value);
      done(
        badRequest({
          code: 'unstorable_text',
          detail: `Field '${field}' contains a NUL (\\u0000) or an unpaired UTF-16 surrogate (like \\ud83d without its pair)`,
          action: 'Send well-formed Unicode text: complete surrogate pairs, no NUL characters.',
        }),
        undefined,
      );
    });
  });
  app.addSchema(ProblemSchema);
  registerProblemHandlers(app);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'veriflow', version: '1', description: 'Identity-verification orchestration: one durable workflow per verification.' },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
    },
    // Shared schemas keep their $id as the component name (`Problem`, not `def-0`): the typed
    // client (clients/typescript) exposes these names.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  // Before the routes: it attaches to each route as it is registered (only /v1/* is limited).
  await registerRateLimit(app, rateLimitsFromEnv(deps.env));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoutes, { deps });
  await app.register(codecRoutes, { deps });
  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['operations'] } }, async (_request, reply) => {
    await measureOutboundQueueAge(deps.database.db, deps.metrics);
    deps.metrics.sweeperBacklog.set(await countUndelivered(deps.database.db, sweeperFromEnv(deps.env).intervalMs));
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  await app.register(webhookRoutes, { deps, webhooks });
  await app.register(sessionRoutes, { deps });
  // A tenant's /v1 routes: the API key is checked once, by the hook of this scope.
  await app.register(async (tenantApi) => {
    await tenantApi.register(apiKeyAuth, { db: deps.database.db });
    await tenantApi.register(verificationRoutes, { deps, feed });
    await tenantApi.register(verifyByIdRoutes, { deps, feed });
    await tenantApi.register(personalDataRoutes, { deps });
    await tenantApi.register(tenantTemplateRoutes, { deps });
    await tenantApi.register(eventRoutes, { deps, feed });
    await tenantApi.register(outboundWebhookRoutes, { deps });
  });
  // Operator routes act for the whole platform: OPERATOR_TOKEN, never a tenant's key.
  await app.register(async (operatorApi) => {
    await operatorApi.register(operatorAuth, { token: deps.env.OPERATOR_TOKEN });
    await operatorApi.register(operatorTemplateRoutes, { deps });
  });
  return app;
}
