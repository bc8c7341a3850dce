// Creating a verification: idempotent by key, nothing half-created. The row is written first
// (so the workflow's first activity finds it), then the workflow is started; if Temporal cannot
// be reached the row is removed again and the client may retry with the same key.
import { createHash, randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { verifications, type Verification, type VerificationApplicant } from '../../db/schema/index.ts';
import { isProviderName, type ProviderName } from '../../domain/verification.ts';
import { verificationWorkflowId } from '../../workflows/messages.ts';
import { behaviourOf, type AppDeps } from '../deps.ts';
import { badRequest, forbidden, idempotencyMismatch } from '../errors.ts';
import type { CreateVerificationBody } from '../schemas.ts';
import { startVerificationWorkflow } from './start-workflow.ts';
import { resolveTemplateId } from './templates.ts';

export interface CreateRequest {
  tenantId: string;
  /** The tenant's allowedProviders; null means every provider. */
  allowedProviders: readonly string[] | null;
  /** The applicant may carry ID-check data (verify-by-id): stored for the provider, never returned. */
  body: CreateVerificationBody & { applicant?: VerificationApplicant };
  idempotencyKey: string | null;
}

/** Key order must not matter: `{a,b}` and `{b,a}` are the same request. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function requestHash(body: CreateVerificationBody): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

/** A tenant restricted to some providers may not start verifications on others (403, naming the provider). */
export function requireAllowedProvider(allowedProviders: readonly string[] | null, provider: ProviderName): void {
  if (allowedProviders === null || allowedProviders.includes(provider)) return;
  throw forbidden({
    code: 'provider_not_allowed',
    detail: `This tenant may not use provider '${provider}'`,
    action:
      allowedProviders.length > 0
        ? `Use one of: ${allowedProviders.join(', ')}; or ask the operator to allow '${provider}' (npm run tenants -- set-providers).`
        : `Ask the operator to allow '${provider}' (npm run tenants -- set-providers).`,
  });
}

function resolveProvider(deps: AppDeps, name: string, allowedProviders: readonly string[] | null): ProviderName {
  if (isProviderName(name)) requireAllowedProvider(allowedProviders, name);
  if (!isProviderName(name) || !deps.providers.has(name)) {
    throw badRequest({
      code: 'unknown_provider',
      detail: `Provider '${name}' is not available`,
      action: `Use one of: ${['persona', 'stripe', 'smileid', 'idmeta'].filter((p) => deps.providers.has(p)).join(', ')}.`,
    });
  }
  return name;
}

/** `notify.email` needs an address to send to and a way to send (SMTP_URL): refuse now rather than fail later. */
function requireEmailable(deps: AppDeps, body: CreateVerificationBody): void {
  if (!body.applicant?.email) {
    throw badRequest({
      code: 'applicant_email_required',
      detail: 'notify.email needs applicant.email to send the link to',
      action: 'Add applicant.email, or leave out notify.email.',
    });
  }
  if (!deps.env.SMTP_URL) {
    throw badRequest({
      code: 'email_not_configured',
      detail: 'Email is not configured on this server (SMTP_URL is not set)',
      action: 'Leave out notify.email and send the sessionUrl yourself, or ask the operator to configure SMTP_URL.',
    });
  }
}

export async function createVerification(deps: AppDeps, request: CreateRequest): Promise<Verification> {
  const { db } = deps.database;
  const { tenantId, body, idempotencyKey } = request;
  const provider = resolveProvider(deps, body.provider, request.allowedProviders);
  const hash = requestHash(body);
  if (body.notify?.email) requireEmailable(deps, body);

  const existing = idempotencyKey ? await findByIdempotencyKey(deps, tenantId, idempotencyKey) : null;
  if (existing) return replay(deps, existing, hash);

  // Template providers: an unknown template is a 400 now, not a failed verification later.
  const templateId = await resolveTemplateId(deps, provider, body.templateId);
  const id = randomUUID();
  const [inserted] = await db
    .insert(verifications)
    .values({
      id,
      tenantId,
      provider,
      status: 'created',
      reference: body.reference ?? null,
      templateId,
      metadata: body.metadata ?? null,
      applicant: body.applicant ?? null,
      notifyByEmail: body.notify?.email === true,
      idempotencyKey,
      requestHash: hash,
      workflowId: verificationWorkflowId(id),
    })
    .onConflictDoNothing({ target: [verifications.tenantId, verifications.idempotencyKey] })
    .returning();
  if (!inserted) {
    // Lost a race with a concurrent request carrying the same key: answer as its replay.
    const winner = await findByIdempotencyKey(deps, tenantId, idempotencyKey!);
    if (!winner) throw new Error('idempotency key conflict without a row');
    return replay(deps, winner, hash);
  }
  try {
    await start(deps, inserted);
  } catch (err) {
    await db.delete(verifications).where(eq(verifications.id, id));
    throw err;
  }
  deps.logger.info({ verificationId: id, provider }, 'verification created');
  return inserted;
}

async function findByIdempotencyKey(deps: AppDeps, tenantId: string, key: string): Promise<Verification | null> {
  const [row] = await deps.database.db
    .select()
    .from(verifications)
    .where(and(eq(verifications.tenantId, tenantId), eq(verifications.idempotencyKey, key)));
  return row ?? null;
}

async function replay(deps: AppDeps, row: Verification, hash: string): Promise<Verification> {
  if (row.requestHash !== hash) {
    throw idempotencyMismatch({
      detail: 'This Idempotency-Key was already used with a different request body',
      action: 'Use a new Idempotency-Key for a different request, or resend the original body.',
    });
  }
  // The first attempt may have died between writing the row and starting the workflow.
  await start(deps, row);
  return row;
}

function start(deps: AppDeps, row: Verification): Promise<void> {
  const provider = row.provider as ProviderName;
  return startVerificationWorkflow(deps.temporal, deps.env.TEMPORAL_TASK_QUEUE, {
    verificationId: row.id,
    tenantId: row.tenantId,
    provider,
    templateId: row.templateId,
    behaviour: behaviourOf(deps.providers.get(provider)),
    timers: deps.timers,
    ...(deps.env.VERIFY_CONTINUE_AS_NEW_AFTER === undefined ? {} : { continueAsNewAfterEvents: deps.env.VERIFY_CONTINUE_AS_NEW_AFTER }),
    ...(row.notifyByEmail ? { notify: { email: true } } : {}),
  });
}
