import type { Dispatcher } from 'undici';
import { createProviderHttp, isSuccess, type ProviderResponse } from '../http.ts';
import type { CreateSessionInput, ProviderSession, ProviderState } from '../types.ts';
import { isJsonObject, readIsoTimestamp, readText } from '../json.ts';
import { mapSmileIdResult, readSmileIdResult } from './result-codes.ts';
import { confirmSmileIdSignature, signSmileIdRequest } from './signature.ts';
import { retryAfterMs } from '../retry-after.ts';

// SmileID's REST API through undici, signed with the official SDK's `Signature`. The SDK's own
// `Utilities.get_job_status` is not used: it rewrites every server URL to https:// (so it cannot
// reach the http sandbox), goes through axios with no timeout, and reports failures without the
// status or Retry-After we need to decide on retrying. The request body and the response check
// are the SDK's: `{ partner_id, user_id, job_id, history, image_links, timestamp, signature }`, and
// the response's `signature` must confirm its `timestamp`.

export interface SmileIdIdType {
  /** ISO 3166-1 alpha-2, e.g. `NG`. */
  country: string;
  /** SmileID's id type, e.g. `NIN_V2`, `PASSPORT`. */
  id_type: string;
  verification_method: 'biometric_kyc' | 'doc_verification' | 'enhanced_document_verification' | 'enhanced_kyc';
}

export interface SmileIdApiConfig {
  /** `https://api.smileidentity.com` (production), `https://testapi.smileidentity.com`, or the sandbox; a trailing `/v1` is tolerated. */
  apiUrl: string;
  partnerId: string;
  apiKey: string;
  /** Where SmileID posts results: our `${PUBLIC_BASE_URL}/webhooks/smileid`. */
  callbackUrl: string;
  /** The IDs a link offers; one verification method each. */
  idTypes?: readonly SmileIdIdType[];
  /**
   * How long a link stays usable, capped at 24 h (seed 002). Set it to the verification's session
   * TTL when that is shorter, so a link never outlives the verification it belongs to.
   */
  linkTtlMs?: number;
}

export interface SmileIdClientOptions {
  /** undici dispatcher (Agent, Pool, MockAgent); the global one by default. */
  dispatcher?: Dispatcher;
  /** Header and body timeout per request. */
  timeoutMs?: number;
  now?: () => Date;
}

export interface SmileIdClient {
  /** `POST /v1/smile_links`: a single-use link for one verification. */
  createLink(input: CreateSessionInput): Promise<ProviderSession>;
  /** `POST /v1/job_status` for the job we created for a verification (providerRef = partner job_id). */
  fetchJobStatus(jobId: string): Promise<ProviderState>;
}

export const DEFAULT_SMILEID_ID_TYPES: readonly SmileIdIdType[] = [
  { country: 'NG', id_type: 'NIN_V2', verification_method: 'biometric_kyc' },
];

// Seed 002 expires links after 24 h; SmileID's own default (90 days) would leave stale links live.
export const SMILE_LINK_TTL_MS = 24 * 60 * 60 * 1000;

// partner_params.job_type of the product a link runs (the SDK's JOB_TYPE values).
const JOB_TYPE: Record<SmileIdIdType['verification_method'], number> = {
  biometric_kyc: 1,
  enhanced_kyc: 5,
  doc_verification: 6,
  enhanced_document_verification: 11,
};

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_ERROR_DETAIL_CHARS = 200;

/** No job yet for this job_id: the user has not submitted on the link. */
const NOT_FOUND = mapSmileIdResult('not_found');

export function createSmileIdClient(config: SmileIdApiConfig, options: SmileIdClientOptions = {}): SmileIdClient {
  const now = options.now ?? (() => new Date());
  const idTypes = config.idTypes !== undefined && config.idTypes.length > 0 ? config.idTypes : DEFAULT_SMILEID_ID_TYPES;
  const linkTtlMs = Math.min(SMILE_LINK_TTL_MS, config.linkTtlMs ?? SMILE_LINK_TTL_MS);
  const http = createProviderHttp({
    provider: 'smileid',
    label: 'SmileID',
    // The SDK's server URLs end in /v1; ours are origins. Accept both.
    origin: config.apiUrl.replace(/\/+$/, '').replace(/\/v1$/, ''),
    dispatcher: options.dispatcher,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    now,
    errorDetail: smileIdErrorDetail,
  });
  const { failure, unusable: invalid } = http;

  // Unlike the other providers, a 404 can be an answer (no job yet): callers check the status.
  function post(path: string, body: Record<string, unknown>): Promise<ProviderResponse> {
    return http.send({
      method: 'POST',
      path,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ ...body, partner_id: config.partnerId, ...signSmileIdRequest(config.partnerId, config.apiKey, now()) }),
    });
  }

  return {
    async createLink(input) {
      const what = 'SmileID POST /v1/smile_links';
      const expiresAt = new Date(now().getTime() + linkTtlMs).toISOString();
      const first = idTypes[0] ?? DEFAULT_SMILEID_ID_TYPES[0]!;
      // user_id is the verification id too: it is what job_status needs besides job_id, and it
      // carries no personal data. A SmileID "user" is thus one verification, not one person.
      const partnerParams = { job_id: input.verificationId, user_id: input.verificationId, job_type: JOB_TYPE[first.verification_method] };
      const response = await post('/v1/smile_links', {
        name: `Verification ${input.verificationId}`,
        id_types: idTypes,
        callback_url: config.callbackUrl,
        is_single_use: true,
        user_id: input.verificationId,
        expires_at: expiresAt,
        partner_params: partnerParams,
      });
      if (!isSuccess(response.status)) throw failure(what, response);
      const body = isJsonObject(response.body) ? response.body : {};
      const link = readText(body.link);
      if (link === null || readText(body.ref_id) === null) throw invalid(what, response, 'without link and ref_id');
      const session: ProviderSession = {
        providerRef: input.verificationId,
        sessionUrl: link,
        expiresAt: readIsoTimestamp(body.expires_at) ?? expiresAt,
        // Until the user submits, job_status knows no job for this job_id.
        providerStatus: NOT_FOUND.providerStatus,
        status: NOT_FOUND.status,
      };
      return session;
    },

    async fetchJobStatus(jobId) {
      const what = 'SmileID POST /v1/job_status';
      const response = await post('/v1/job_status', { user_id: jobId, job_id: jobId, history: false, image_links: false });
      // SmileID's JSON 404: no job for this job_id yet. Any other 404 (an HTML page from a wrong
      // URL) is a failure, or a misconfiguration would look like a user who never starts.
      if (response.status === 404 && isJsonObject(response.body)) return state(jobId, NOT_FOUND);
      if (!isSuccess(response.status)) throw failure(what, response);
      const body = isJsonObject(response.body) ? response.body : null;
      if (body === null) throw invalid(what, response, 'without a JSON object');
      if (!confirmSmileIdSignature(config.partnerId, config.apiKey, body.timestamp, body.signature)) {
        throw invalid(what, response, 'with a signature that does not match the configured partner id and API key');
      }
      const result = isJsonObject(body.result) ? body.result : null;
      const echoed = result !== null && isJsonObject(result.PartnerParams) ? readText(result.PartnerParams.job_id) : null;
      if (echoed !== null && echoed !== jobId) throw invalid(what, response, `for job ${echoed}, not ${jobId}`);
      const reported = result === null ? null : readSmileIdResult(result);
      if (reported !== null) return state(jobId, reported);
      // No result code yet: SmileID is still working on it, unless it says the job is complete
      // without one, which nobody should take for a decision.
      return state(jobId, body.job_complete === true ? mapSmileIdResult('unknown') : mapSmileIdResult('processing'));
    },
  };
}

function state(jobId: string, mapping: { providerStatus: string; status: ProviderState['status']; reasons: string[] }): ProviderState {
  return {
    providerRef: jobId,
    providerStatus: mapping.providerStatus,
    status: mapping.status,
    updatedAt: null,
    reasons: mapping.reasons,
    document: null,
  };
}

/** How long to wait before retrying (`Retry-After`), re-exported: tests read it from the client they use. */
export { retryAfterMs };

/** SmileID errors: `{ code: "2205", error: "You're not authorized to do that" }`. */
function smileIdErrorDetail(body: unknown): string | null {
  if (!isJsonObject(body)) return null;
  const code = readText(body.code);
  const message = readText(body.error) ?? readText(body.message);
  const parts = [code, message].filter((part) => part !== null);
  return parts.length === 0 ? null : parts.join(' ').slice(0, MAX_ERROR_DETAIL_CHARS);
}
