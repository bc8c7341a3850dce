// Verify-by-id (seed 001): an ID-number check against Philippine government records (NBI
// clearance, PRC licence) as an IDmeta verification whose template has that check as its only
// step. The number and the person's data are stored in the row's applicant (PII) and read by the
// step activity: they never travel through workflow history, logs or API responses.
import type { Verification } from '../../db/schema/index.ts';
import { IDMETA_ID_CHECKS } from '../../providers/idmeta/id-checks.ts';
import type { AppDeps } from '../deps.ts';
import { badRequest } from '../errors.ts';
import type { VerifyByIdBody } from '../schemas.ts';
import { createVerification, requireAllowedProvider } from './create-verification.ts';
import { activeTemplates, templateNotFound } from './templates.ts';

const PROVIDER = 'idmeta';

export async function createIdCheck(
  deps: AppDeps,
  request: { tenantId: string; allowedProviders: readonly string[] | null; body: VerifyByIdBody; idempotencyKey: string | null },
): Promise<Verification> {
  const { body } = request;
  requireAllowedProvider(request.allowedProviders, PROVIDER);
  if (!deps.providers.has(PROVIDER)) {
    throw badRequest({
      code: 'unknown_provider',
      detail: "Provider 'idmeta' is not available",
      action: 'ID checks run on IDmeta: configure IDMETA_API_KEY and IDMETA_WEBHOOK_SECRET.',
    });
  }
  const check = IDMETA_ID_CHECKS[body.verificationType];
  // The first active template (in the provider's order) whose only step is this check.
  const template = (await activeTemplates(deps, PROVIDER)).find((t) => t.steps.length === 1 && t.steps[0]?.key === check.step.key);
  if (!template) throw templateNotFound(PROVIDER, `No active IDmeta template runs the ${check.label} check`);
  return createVerification(deps, {
    tenantId: request.tenantId,
    allowedProviders: request.allowedProviders,
    idempotencyKey: request.idempotencyKey,
    body: {
      provider: PROVIDER,
      templateId: template.externalId,
      ...(body.reference === undefined ? {} : { reference: body.reference }),
      metadata: { verificationType: body.verificationType },
      applicant: {
        firstName: body.userData.firstName,
        lastName: body.userData.lastName,
        dateOfBirth: body.userData.dateOfBirth,
        idNumber: body.idNumber,
      },
    },
  });
}
