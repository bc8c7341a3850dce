import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { publicBaseUrl } from '../../config/env.ts';
import { VerificationSchema } from '../../domain/verification-json.ts';
import type { AppDeps } from '../deps.ts';
import { notFound } from '../errors.ts';
import {
  CancelBody,
  CreateVerificationBody,
  CreatedVerification,
  ListQuery,
  ReviewBody,
  VerificationListSchema,
  VerificationParams,
  problemResponses,
} from '../schemas.ts';
import { createVerification } from '../services/create-verification.ts';
import { cancelVerification, reviewVerification } from '../services/operator-actions.ts';
import { listVerifications } from '../services/list-verifications.ts';
import { findVerification, loadVerificationBody, loadVerificationSummaries, toCreatedVerification } from '../services/verification-view.ts';
import type { ChangeFeed } from '../services/change-feed.ts';
import { isWaitingOnProvider, providerUnavailableWhileWaiting, waitForSession } from '../services/wait-for-session.ts';

const MAX_WAIT_SECONDS = 30;

/** `Prefer: wait=N` (RFC 7240 style): how long the client is willing to wait, capped at 30 s. */
function preferredWaitMs(header: string | undefined): number {
  const match = header ? /(?:^|[,;\s])wait=(\d+)/i.exec(header) : null;
  return match ? Math.min(Number(match[1]), MAX_WAIT_SECONDS) * 1000 : 0;
}

export const verificationRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps; feed: ChangeFeed }> = async (app, { deps, feed }) => {
  const { db } = deps.database;
  const baseUrl = publicBaseUrl(deps.env);

  const requireVerification = async (tenantId: string, id: string) => {
    const row = await findVerification(db, tenantId, id);
    if (!row)
      throw notFound({
        detail: `Verification ${id} not found`,
        action: 'Check the id; verifications are visible only to the tenant that created them.',
      });
    return row;
  };

  app.post(
    '/v1/verifications',
    {
      schema: {
        summary: 'Start a verification',
        description:
          'Creates the verification and starts its workflow; the provider session is created asynchronously. ' +
          'Send `Prefer: wait=N` (N ≤ 30) to wait for the session: 201 with `sessionUrl` when it exists in time, else 202 without it. ' +
          '`Idempotency-Key`: the same key and body return the same verification; the same key with another body is a 422.',
        tags: ['verifications'],
        headers: Type.Object({
          'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
          prefer: Type.Optional(Type.String()),
        }),
        body: CreateVerificationBody,
        response: { 201: CreatedVerification, 202: CreatedVerification, ...problemResponses(400, 401, 403, 415, 422, 503) },
      },
    },
    async (request, reply) => {
      const stopTimer = deps.metrics?.createSeconds.startTimer();
      const created = await createVerification(deps, {
        tenantId: request.tenant.id,
        allowedProviders: request.tenant.allowedProviders,
        body: request.body,
        idempotencyKey: request.headers['idempotency-key'] ?? null,
      });
      stopTimer?.();
      const waitMs = preferredWaitMs(request.headers.prefer);
      const row = waitMs > 0 ? await waitForSession(deps, feed, created, waitMs) : created;
      const ready = waitMs > 0 && row.sessionUrl !== null;
      if (ready) reply.header('preference-applied', `wait=${waitMs / 1000}`);
      reply.header('location', `${baseUrl}/v1/verifications/${row.id}`);
      // The client waited and the provider is down: say so (the verification exists and keeps retrying; Location names it).
      if (waitMs > 0 && !ready && isWaitingOnProvider(row)) throw providerUnavailableWhileWaiting();
      return reply.status(ready ? 201 : 202).send(toCreatedVerification(row, baseUrl));
    },
  );

  app.get(
    '/v1/verifications',
    {
      schema: {
        summary: 'List verifications',
        description: 'Newest first, filtered; pass `nextCursor` back as `cursor` for the next page (null on the last page).',
        tags: ['verifications'],
        querystring: ListQuery,
        response: { 200: VerificationListSchema, ...problemResponses(400, 401) },
      },
    },
    async (request) => {
      const { rows, nextCursor } = await listVerifications(db, request.tenant.id, request.query);
      return { data: await loadVerificationSummaries(db, rows), nextCursor };
    },
  );

  app.get(
    '/v1/verifications/:id',
    {
      schema: {
        summary: 'Get a verification with its history',
        tags: ['verifications'],
        params: VerificationParams,
        response: { 200: VerificationSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => loadVerificationBody(db, await requireVerification(request.tenant.id, request.params.id)),
  );

  app.post(
    '/v1/verifications/:id/cancel',
    {
      schema: {
        summary: 'Cancel a verification',
        description: 'Only a verification that is not yet decided can be canceled (409 otherwise).',
        tags: ['verifications'],
        params: VerificationParams,
        body: Type.Optional(CancelBody),
        response: { 200: VerificationSchema, ...problemResponses(400, 401, 404, 409, 503) },
      },
    },
    async (request) => {
      const row = await requireVerification(request.tenant.id, request.params.id);
      await cancelVerification(deps, row, request.body?.reason);
      return loadVerificationBody(db, await requireVerification(request.tenant.id, row.id));
    },
  );

  app.post(
    '/v1/verifications/:id/review',
    {
      schema: {
        summary: 'Apply an operator review decision',
        description: 'An operator decision always applies, whatever the provider said (history source `operator`).',
        tags: ['verifications'],
        params: VerificationParams,
        body: ReviewBody,
        response: { 200: VerificationSchema, ...problemResponses(400, 401, 404, 409, 503) },
      },
    },
    async (request) => {
      const row = await requireVerification(request.tenant.id, request.params.id);
      await reviewVerification(deps, row, request.body);
      return loadVerificationBody(db, await requireVerification(request.tenant.id, row.id));
    },
  );
};
