import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppDeps } from '../deps.ts';
import { notFound } from '../errors.ts';
import { PersonalDataErasureSchema, VerificationParams, problemResponses } from '../schemas.ts';
import { erasePersonalData } from '../services/erase-personal-data.ts';
import { findVerification } from '../services/verification-view.ts';

export const personalDataRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const { db } = deps.database;
  app.delete(
    '/v1/verifications/:id/personal-data',
    {
      schema: {
        summary: "Erase a verification's personal data",
        description:
          'Erases the applicant, document fields, metadata, stored provider webhook bodies, verify-by-id inputs and the ' +
          'applicant data inside outbound webhook bodies. The verification, its status and its status history stay (without ' +
          'personal data) for audit; webhooks and polls that arrive later are stored without their data. Sends ' +
          '`verification.personal_data_erased` to the webhook endpoint. Idempotent: a repeat answers 200 with the same ' +
          'erasure record. With RETENTION_PERSONAL_DATA set, the same erasure runs by itself after each decision (`erasedBy: retention`).',
        tags: ['verifications'],
        params: VerificationParams,
        response: { 200: PersonalDataErasureSchema, ...problemResponses(400, 401, 404, 503) },
      },
    },
    async (request) => {
      const row = await findVerification(db, request.tenant.id, request.params.id);
      if (!row)
        throw notFound({
          detail: `Verification ${request.params.id} not found`,
          action: 'Check the id; verifications are visible only to the tenant that created them.',
        });
      return erasePersonalData(deps, { tenantId: request.tenant.id, apiKeyId: request.tenant.apiKeyId, verificationId: row.id });
    },
  );
};
