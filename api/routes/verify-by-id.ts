import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { publicBaseUrl } from '../../config/env.ts';
import type { AppDeps } from '../deps.ts';
import { VerificationSchema } from '../../domain/verification-json.ts';
import { CreatedVerification, VerifyByIdBody, problemResponses } from '../schemas.ts';
import { loadVerificationBody, toCreatedVerification } from '../services/verification-view.ts';
import { createIdCheck } from '../services/verify-by-id.ts';
import type { ChangeFeed } from '../services/change-feed.ts';
import { hasOutcome, isWaitingOnProvider, providerUnavailableWhileWaiting, waitForOutcome } from '../services/wait-for-session.ts';

/** Seed 001: an ID check answers within 15 s; longer, and the client polls like any verification. */
export const VERIFY_BY_ID_WAIT_MS = 15_000;

export const verifyByIdRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps; feed: ChangeFeed; waitMs?: number }> = async (
  app,
  { deps, feed, waitMs = VERIFY_BY_ID_WAIT_MS },
) => {
  const baseUrl = publicBaseUrl(deps.env);

  app.post(
    '/v1/verifications/verify-by-id',
    {
      schema: {
        summary: 'Check an ID number against government records',
        description:
          'Philippine NBI clearance or PRC licence: one provider call with the number and the person, no document upload. ' +
          'Waits up to 15 s: 201 with the verification when the provider has answered (decided, or needs_review), else 202 like POST /v1/verifications (poll `statusUrl`). ' +
          '503 when the provider is unavailable (the verification keeps retrying). `Idempotency-Key` as for POST /v1/verifications.',
        tags: ['verifications'],
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) }),
        body: VerifyByIdBody,
        response: { 201: VerificationSchema, 202: CreatedVerification, ...problemResponses(400, 401, 403, 415, 422, 503) },
      },
    },
    async (request, reply) => {
      const created = await createIdCheck(deps, {
        tenantId: request.tenant.id,
        allowedProviders: request.tenant.allowedProviders,
        body: request.body,
        idempotencyKey: request.headers['idempotency-key'] ?? null,
      });
      const row = await waitForOutcome(deps, feed, created, waitMs);
      reply.header('location', `${baseUrl}/v1/verifications/${row.id}`);
      if (hasOutcome(row)) return reply.status(201).send(await loadVerificationBody(deps.database.db, row));
      if (isWaitingOnProvider(row)) throw providerUnavailableWhileWaiting();
      return reply.status(202).send(toCreatedVerification(row, baseUrl));
    },
  );
};
