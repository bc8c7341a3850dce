import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { outboundSecretGraceMs } from '../../config/env.ts';
import { DEFAULT_WEBHOOK_RETRY_SCHEDULE_TEXT } from '../../domain/retry-schedule.ts';
import type { AppDeps } from '../deps.ts';
import { notFound } from '../errors.ts';
import { outboundPolicyFromEnv } from '../../wiring/outbound-address.ts';
import {
  WebhookDeliveryListQuery,
  WebhookDeliveryListSchema,
  WebhookDeliveryParams,
  WebhookDeliverySchema,
  WebhookEndpointBody,
  WebhookEndpointSchema,
  WebhookReplayBody,
  WebhookReplaySchema,
  problemResponses,
} from '../schemas.ts';
import { REPLAY_MAX_DELIVERIES, replayDeliveries } from '../services/webhook-replay.ts';
import { findEndpoint, listDeliveries, putEndpoint, retryDelivery, toDeliveryJson, toEndpointJson } from '../services/outbound-webhooks.ts';

const EVENTS_DESCRIPTION =
  'Events: `verification.created` (the provider session exists), `verification.step.completed` (a multi-step template advanced), ' +
  '`verification.status_changed` (every persisted status change), `verification.completed` (approved), ' +
  '`verification.failed` (declined, expired, error, canceled). Body `{ type, timestamp, seq, data }`, `data` being the verification as ' +
  'GET /v1/verifications/:id shows it, without `history`. Signed per Standard Webhooks (`webhook-id` = the delivery id, the same on ' +
  'every attempt; `webhook-timestamp`; `webhook-signature: v1,<base64 HMAC-SHA256>`). Any 2xx within 15 s is success; otherwise ' +
  `retries follow at ${DEFAULT_WEBHOOK_RETRY_SCHEDULE_TEXT} (OUTBOUND_RETRY_SCHEDULE), then the delivery is \`dead\`. ` +
  'Ordered per verification: `seq` numbers its events 1, 2, 3, … and event n+1 is sent only once event n succeeded or went `dead`; ' +
  'different verifications never wait on each other.';

export const outboundWebhookRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const { db } = deps.database;
  const outbound = outboundPolicyFromEnv(deps.env);
  const secretGraceMs = outboundSecretGraceMs(deps.env);

  app.put(
    '/v1/webhook-endpoint',
    {
      schema: {
        summary: 'Set the webhook endpoint',
        description:
          'One endpoint per tenant. The first PUT creates it (201) with a new signing secret; a later PUT replaces the URL (200) and ' +
          'keeps the secret, unless `rotateSecret: true` asks for a new one: the old one then keeps signing beside it until ' +
          '`previousSecretExpiresAt` (OUTBOUND_SECRET_GRACE, 24 h), each request carrying both signatures space-separated in ' +
          '`webhook-signature`, so receivers can switch secrets without rejecting a delivery. ' +
          'Loopback, private, link-local, CGNAT, ULA, unspecified and multicast addresses are refused (400 `webhook_url_not_allowed`), ' +
          'here and again on every delivery against the address the name resolves to; in production only https URLs are accepted. ' +
          EVENTS_DESCRIPTION,
        tags: ['webhooks'],
        body: WebhookEndpointBody,
        response: { 200: WebhookEndpointSchema, 201: WebhookEndpointSchema, ...problemResponses(400, 401, 415) },
      },
    },
    async (request, reply) => {
      const { endpoint, created } = await putEndpoint(db, request.tenant.id, request.body, outbound, secretGraceMs);
      return reply.status(created ? 201 : 200).send(toEndpointJson(endpoint));
    },
  );

  app.get(
    '/v1/webhook-endpoint',
    {
      schema: {
        summary: 'Read the webhook endpoint and its signing secret',
        tags: ['webhooks'],
        response: { 200: WebhookEndpointSchema, ...problemResponses(401, 404) },
      },
    },
    async (request) => {
      const endpoint = await findEndpoint(db, request.tenant.id);
      if (!endpoint) throw notFound({ detail: 'No webhook endpoint is set', action: 'Set one with PUT /v1/webhook-endpoint { url }.' });
      return toEndpointJson(endpoint);
    },
  );

  app.get(
    '/v1/webhook-deliveries',
    {
      schema: {
        summary: 'List webhook deliveries',
        description:
          'Newest first; filter by `status` (pending, succeeded, failed, dead) or `verificationId`. Each item shows its attempts and the last error. ' +
          EVENTS_DESCRIPTION,
        tags: ['webhooks'],
        querystring: WebhookDeliveryListQuery,
        response: { 200: WebhookDeliveryListSchema, ...problemResponses(400, 401) },
      },
    },
    async (request) => listDeliveries(db, request.tenant.id, request.query),
  );

  app.post(
    '/v1/webhook-deliveries/replay',
    {
      schema: {
        summary: 'Replay the deliveries of a time window',
        description:
          "Re-sends the tenant's deliveries created in [since, until) — all but pending ones, or only those in `status` — like Svix's " +
          '"recover": each under its original `webhook-id` and body (receivers dedupe on the id), with the full retry schedule, and the ' +
          `events of one verification in \`seq\` order again. At most ${REPLAY_MAX_DELIVERIES} deliveries per request: a window matching more ` +
          'is refused (422 `replay_too_large`, nothing re-queued) — replay it in parts. 400 `invalid_replay_window` when since is not before until.',
        tags: ['webhooks'],
        body: WebhookReplayBody,
        response: { 202: WebhookReplaySchema, ...problemResponses(400, 401, 415, 422) },
      },
    },
    async (request, reply) => reply.status(202).send(await replayDeliveries(deps, request.tenant.id, request.body)),
  );

  app.post(
    '/v1/webhook-deliveries/:id/retry',
    {
      schema: {
        summary: 'Retry a failed or dead delivery',
        description:
          'Re-queues the delivery (status `pending`) and attempts it again at once, with the full retry schedule: a failed or dead one, or a pending one whose run never started. 409 when it already succeeded or its run is about to attempt it.',
        tags: ['webhooks'],
        params: WebhookDeliveryParams,
        response: { 202: WebhookDeliverySchema, ...problemResponses(400, 401, 404, 409, 503) },
      },
    },
    async (request, reply) => reply.status(202).send(toDeliveryJson(await retryDelivery(deps, request.tenant.id, request.params.id))),
  );
};
