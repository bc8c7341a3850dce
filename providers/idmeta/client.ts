import type { Dispatcher } from 'undici';
import { ProviderRequestError } from '../errors.ts';
import { createProviderHttp, type ProviderResponse } from '../http.ts';
import type { CreateSessionInput, ProviderSession, ProviderState, ProviderTemplate, RunStepInput, TemplatePageProgress } from '../types.ts';
import { stepFields } from './id-checks.ts';
import { isJsonObject, readText } from '../json.ts';
import { STEP_KEY, documentFromSteps, readIdmetaTemplate, readIdmetaVerification, type IdmetaVerificationView } from './resources.ts';
import {
  IDMETA_REQUEST_STATUS,
  IDMETA_STATUS,
  mapIdmetaStatus,
  overallIdmetaStatus,
  readIdmetaRequestStatus,
  readIdmetaStatusCode,
} from './status.ts';
import { VERIFICATION_ID_METADATA_KEY } from './webhook.ts';
import { retryAfterMs } from '../retry-after.ts';

// IDmeta's REST API through undici, `Authorization: Bearer <token>`. The endpoints veriflow uses
// (the documented ones are marked *; the rest are our design, implemented by the sandbox):
//   GET  /api/v1/templates?page=&per_page=          templates with their ordered plans, paginated:
//        { data: [{ id, name, plans: [{ key, name }], is_active }], meta: { current_page, last_page, total } }
//   GET  /api/v1/templates/:id                      one template: { data: {…} }
// * POST /api/v1/verification/create-verification { template_id, metadata } -> { verification: { id, status: 99 } }
//   POST /api/v1/verification/<step key>           one call per step (plan), e.g. document, selfie,
//        database_check, *philippines/nbiclearance: { template_id, verification_id, …step fields }
//        -> { status: true, request_status: 0|1|2, verification_status }
// * POST /api/v1/verification/finalize-verification { template_id, verification_id }
//        -> { verification, status, status_message, missing_plans, finalized }
//   GET  /api/v1/verification/:id                   the verification, for polling and webhook confirmation
// Every POST carries `Idempotency-Key`, so a retried step is answered, not run again.

export interface IdmetaApiConfig {
  /** The account's API origin, e.g. `https://integrate.idmetagroup.com` (a trailing `/api` is tolerated). */
  apiUrl: string;
  /** API token from IDmeta's dashboard (Settings → API Tokens). */
  apiKey: string;
}

export interface IdmetaClientOptions {
  /** undici dispatcher (Agent, Pool, MockAgent); the global one by default. */
  dispatcher?: Dispatcher;
  /** Header and body timeout for reads and session calls. */
  timeoutMs?: number;
  /** Steps run checks against government databases and take seconds; must stay under the activity's 30 s. */
  stepTimeoutMs?: number;
  /** Templates per page when listing. */
  pageSize?: number;
  now?: () => Date;
}

export interface IdmetaClient {
  listTemplates(options?: { onPage?: (progress: TemplatePageProgress) => void }): Promise<ProviderTemplate[]>;
  getTemplate(templateId: string): Promise<ProviderTemplate>;
  createVerification(input: CreateSessionInput): Promise<ProviderSession>;
  runStep(input: RunStepInput): Promise<void>;
  finalize(input: { providerRef: string; templateId: string | null }): Promise<ProviderState>;
  fetchVerification(verificationId: string): Promise<ProviderState>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_STEP_TIMEOUT_MS = 25_000;
const DEFAULT_PAGE_SIZE = 50;
// A provider that keeps answering "more pages" must not keep us listing forever.
const MAX_PAGES = 1000;
const MAX_ERROR_DETAIL_CHARS = 200;

interface IdmetaRequest {
  body?: unknown;
  idempotencyKey?: string;
  timeoutMs?: number;
}

export function createIdmetaClient(config: IdmetaApiConfig, options: IdmetaClientOptions = {}): IdmetaClient {
  const stepTimeoutMs = options.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const http = createProviderHttp({
    provider: 'idmeta',
    label: 'IDmeta',
    // Seed 001 configured `https://integrate.idmetagroup.com/api`; accept both spellings of the base.
    origin: config.apiUrl.replace(/\/+$/, '').replace(/\/api$/, ''),
    dispatcher: options.dispatcher,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    now: options.now ?? (() => new Date()),
    errorDetail,
  });
  const { unusable, rejected } = http;

  function call(method: 'GET' | 'POST', path: string, extra: IdmetaRequest = {}): Promise<ProviderResponse> {
    const headers: Record<string, string> = { authorization: `Bearer ${config.apiKey}`, accept: 'application/json' };
    if (extra.body !== undefined) headers['content-type'] = 'application/json';
    if (extra.idempotencyKey !== undefined) headers['idempotency-key'] = extra.idempotencyKey;
    return http.call({
      method,
      path,
      headers,
      ...(extra.body === undefined ? {} : { body: JSON.stringify(extra.body) }),
      ...(extra.timeoutMs === undefined ? {} : { timeoutMs: extra.timeoutMs }),
    });
  }

  function verificationOf(response: ProviderResponse, what: string): IdmetaVerificationView {
    const verification = readIdmetaVerification(response.body);
    if (verification === null) throw unusable(what, response, 'without a verification');
    return verification;
  }

  function stateOf(verification: IdmetaVerificationView, statusValue: unknown, what: string, status: number): ProviderState {
    const mapped = mapIdmetaStatus(statusValue);
    if (mapped === null) {
      throw rejected(
        `${what}: IDmeta verification ${verification.id} has status ${JSON.stringify(statusValue)}, which veriflow does not know`,
        status,
      );
    }
    return {
      providerRef: verification.id,
      providerStatus: mapped.providerStatus,
      status: mapped.status,
      updatedAt: verification.updatedAt,
      reasons: mapped.reasons,
      document: documentFromSteps(verification.steps),
    };
  }

  return {
    async listTemplates({ onPage } = {}) {
      const templates: ProviderTemplate[] = [];
      for (let page = 1; page <= MAX_PAGES; page++) {
        const path = `/api/v1/templates?page=${page}&per_page=${pageSize}`;
        const response = await call('GET', path);
        const body = isJsonObject(response.body) ? response.body : {};
        const items = Array.isArray(body.data) ? body.data : Array.isArray(response.body) ? response.body : null;
        if (items === null) throw unusable('IDmeta GET /api/v1/templates', response, 'without a data array');
        for (const item of items) {
          const template = readIdmetaTemplate(item, templates.length);
          if (template !== null) templates.push(template);
        }
        const meta = isJsonObject(body.meta) ? body.meta : {};
        const lastPage = Number(readText(meta.last_page) ?? page);
        const total = readText(meta.total);
        onPage?.({
          page,
          pages: Number.isFinite(lastPage) ? lastPage : page,
          fetched: templates.length,
          total: total === null ? null : Number(total),
        });
        if (items.length === 0 || !Number.isFinite(lastPage) || page >= lastPage) return templates;
      }
      throw rejected(`IDmeta GET /api/v1/templates has more than ${MAX_PAGES} pages`);
    },

    async getTemplate(templateId) {
      const path = `/api/v1/templates/${encodeURIComponent(templateId)}`;
      const response = await call('GET', path);
      const body = isJsonObject(response.body) ? (response.body.data ?? response.body.template ?? response.body) : null;
      const template = readIdmetaTemplate(body, 0);
      if (template === null) throw unusable(`IDmeta GET ${path}`, response, 'without a template');
      return template;
    },

    async createVerification(input) {
      if (input.templateId === null) {
        // The API resolves a default before the workflow starts; a session without one is a bug.
        throw rejected('IDmeta verifications need a template id');
      }
      const what = 'IDmeta POST /api/v1/verification/create-verification';
      const response = await call('POST', '/api/v1/verification/create-verification', {
        idempotencyKey: input.idempotencyKey,
        // Routing key: webhooks echo the metadata back, so they name our verification.
        body: { template_id: input.templateId, metadata: { [VERIFICATION_ID_METADATA_KEY]: input.verificationId } },
      });
      const verification = verificationOf(response, what);
      // A new verification in a status we do not know is, for us, still only created: never a result.
      const mapped = mapIdmetaStatus(verification.rawStatus) ?? mapIdmetaStatus(IDMETA_STATUS.empty)!;
      return {
        providerRef: verification.id,
        sessionUrl: verification.verificationUrl ?? (isJsonObject(response.body) ? readText(response.body.verification_url) : null),
        // IDmeta verifications do not expire by themselves.
        expiresAt: null,
        providerStatus: mapped.providerStatus,
        status: mapped.status,
      };
    },

    async runStep(input) {
      const { key } = input.step;
      if (!STEP_KEY.test(key)) {
        throw rejected(`IDmeta step key ${JSON.stringify(key)} is not a plan path`);
      }
      const path = `/api/v1/verification/${key.split('/').map(encodeURIComponent).join('/')}`;
      const what = `IDmeta POST ${path}`;
      const response = await call('POST', path, {
        idempotencyKey: input.idempotencyKey,
        timeoutMs: stepTimeoutMs,
        body: { template_id: input.templateId, verification_id: input.providerRef, ...stepFields(key, input.applicant) },
      });
      const body = isJsonObject(response.body) ? response.body : {};
      const apiRequest = isJsonObject(body.apiRequest) ? body.apiRequest : {};
      const requestStatus = readIdmetaRequestStatus(body.request_status ?? apiRequest.api_request_status);
      if (requestStatus === IDMETA_REQUEST_STATUS.pending) {
        // Accepted, still processing: asking again (same Idempotency-Key) returns the outcome.
        throw new ProviderRequestError(`${what} is still pending at IDmeta`, {
          provider: 'idmeta',
          status: response.status,
          retryable: true,
          retryAfterMs: null,
        });
      }
      if (requestStatus === IDMETA_REQUEST_STATUS.failed || body.status === false) {
        const detail = errorDetail(response.body);
        throw rejected(`${what} failed at IDmeta${detail === null ? '' : `: ${detail}`}`, response.status);
      }
    },

    async finalize({ providerRef, templateId }) {
      const what = 'IDmeta POST /api/v1/verification/finalize-verification';
      const response = await call('POST', '/api/v1/verification/finalize-verification', {
        idempotencyKey: `finalize-${providerRef}`,
        body: { template_id: templateId, verification_id: providerRef },
      });
      const verification = verificationOf(response, what);
      const body = isJsonObject(response.body) ? response.body : {};
      // The top-level status is the decision; older responses only update the verification's, and
      // without either the components decide, Rejected first (IDmeta's precedence).
      const status =
        readIdmetaStatusCode(body.status) ??
        verification.status ??
        (verification.steps.length > 0 ? overallIdmetaStatus(verification.steps.map((step) => step.status)) : body.status);
      return stateOf(verification, status, what, response.status);
    },

    async fetchVerification(verificationId) {
      const path = `/api/v1/verification/${encodeURIComponent(verificationId)}`;
      const response = await call('GET', path);
      const verification = verificationOf(response, `IDmeta GET ${path}`);
      return stateOf(verification, verification.rawStatus, `IDmeta GET ${path}`, response.status);
    },
  };
}

/** How long to wait before retrying (`Retry-After`), re-exported: tests read it from the client they use. */
export { retryAfterMs };

/** IDmeta errors: `{ message }` (sometimes `{ error }` or Laravel's `{ errors: { field: [..] } }`); shortened. */
function errorDetail(body: unknown): string | null {
  if (!isJsonObject(body)) return null;
  const message = readText(body.message) ?? readText(body.error);
  return message === null ? null : message.slice(0, MAX_ERROR_DETAIL_CHARS);
}
