import type { Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import { createProviderHttp, firstHeader, type ProviderResponse } from '../http.ts';
import type { CreateSessionInput, ProviderSession, ProviderState } from '../types.ts';
import { readPersonaInquiry, type PersonaInquiryView } from './inquiry.ts';
import { isJsonObject, readText } from '../json.ts';
import { retryAfterMs as standardRetryAfterMs } from '../retry-after.ts';

export interface PersonaApiConfig {
  /** Persona's origin, e.g. `https://withpersona.com` (a trailing `/api/v1` is tolerated). */
  apiUrl: string;
  apiKey: string;
  /** Default inquiry template (`itmpl_…`) when a verification names none. */
  templateId: string;
}

export interface PersonaClientOptions {
  /** undici dispatcher (Agent, Pool, MockAgent); the global one by default. */
  dispatcher?: Dispatcher;
  /** Header and body timeout per request. */
  timeoutMs?: number;
  now?: () => Date;
}

export interface PersonaClient {
  createInquiry(input: CreateSessionInput): Promise<ProviderSession>;
  fetchInquiry(inquiryId: string): Promise<ProviderState>;
}

// Pinned so a change of Persona's account-default version cannot change the shapes we parse.
const PERSONA_VERSION = '2023-01-05';
const DEFAULT_TIMEOUT_MS = 10_000;
// Persona's default for both the inquiry and its one-time link, used when the response has no `expires-at`.
const ONE_TIME_LINK_TTL_MS = 24 * 60 * 60 * 1000;
// `verifications` and `documents` are the relationships that hold government IDs.
const INCLUDE_GOVERNMENT_IDS = 'verifications,documents';
const MAX_ERROR_DETAIL_CHARS = 200;

interface PersonaRequest {
  body?: unknown;
  idempotencyKey?: string;
}

export function createPersonaClient(config: PersonaApiConfig, options: PersonaClientOptions = {}): PersonaClient {
  // Seed 000 configured `https://withpersona.com/api/v1`; accept both spellings of the base.
  const origin = config.apiUrl.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
  const now = options.now ?? (() => new Date());
  const http = createProviderHttp({
    provider: 'persona',
    label: 'Persona',
    origin,
    dispatcher: options.dispatcher,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    now,
    errorDetail: personaErrorDetail,
    retryAfterMs,
  });

  function call(method: 'GET' | 'POST', path: string, extra: PersonaRequest = {}): Promise<ProviderResponse> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${config.apiKey}`,
      'persona-version': PERSONA_VERSION,
      accept: 'application/json',
    };
    if (extra.body !== undefined) headers['content-type'] = 'application/json';
    if (extra.idempotencyKey !== undefined) headers['idempotency-key'] = extra.idempotencyKey;
    return http.call({ method, path, headers, ...(extra.body === undefined ? {} : { body: JSON.stringify(extra.body) }) });
  }

  function inquiryOf(response: ProviderResponse, what: string): PersonaInquiryView {
    const view = readPersonaInquiry(response.body);
    if (view === null) throw http.unusable(what, response, 'without an inquiry');
    return view;
  }

  return {
    async createInquiry(input) {
      const response = await call('POST', '/api/v1/inquiries', {
        idempotencyKey: input.idempotencyKey,
        body: {
          data: {
            attributes: {
              'inquiry-template-id': input.templateId ?? config.templateId,
              // Routing key: webhooks echo it back as our verification id.
              'reference-id': input.verificationId,
            },
          },
          meta: { 'auto-create-one-time-link': true },
        },
      });
      const inquiry = inquiryOf(response, 'Persona POST /api/v1/inquiries');
      const meta = isJsonObject(response.body) && isJsonObject(response.body.meta) ? response.body.meta : {};
      return {
        providerRef: inquiry.inquiryId,
        sessionUrl: readText(meta['one-time-link']),
        expiresAt: inquiry.expiresAt ?? new Date(now().getTime() + ONE_TIME_LINK_TTL_MS).toISOString(),
        // A new inquiry in a status we do not know is, for us, still only created: never a result.
        providerStatus: inquiry.providerStatus ?? 'created',
        status: inquiry.status ?? 'created',
      };
    },

    async fetchInquiry(inquiryId) {
      const path = `/api/v1/inquiries/${encodeURIComponent(inquiryId)}`;
      const response = await call('GET', `${path}?include=${INCLUDE_GOVERNMENT_IDS}`);
      const inquiry = inquiryOf(response, `Persona GET ${path}`);
      if (inquiry.providerStatus === null || inquiry.status === null) {
        throw http.rejected(
          `Persona inquiry ${inquiry.inquiryId} has status ${JSON.stringify(inquiry.rawStatus)}, which veriflow does not know`,
          response.status,
        );
      }
      return {
        providerRef: inquiry.inquiryId,
        providerStatus: inquiry.providerStatus,
        status: inquiry.status,
        updatedAt: inquiry.updatedAt,
        reasons: inquiry.reasons,
        document: inquiry.document,
      };
    },
  };
}

/**
 * How long to wait before retrying: `Retry-After` (seconds or HTTP date) when sent, else
 * Persona's documented `RateLimit-Reset` (seconds until the window resets).
 */
export function retryAfterMs(headers: IncomingHttpHeaders, now: Date): number | null {
  const retryAfter = standardRetryAfterMs(headers, now);
  if (retryAfter !== null) return retryAfter;
  const reset = firstHeader(headers['ratelimit-reset']);
  return reset !== null && /^\d+$/.test(reset) ? Number(reset) * 1000 : null;
}

/** Persona errors: `{ errors: [{ title, details }] }`; only the first, shortened, goes into our message. */
function personaErrorDetail(body: unknown): string | null {
  const errors = isJsonObject(body) && Array.isArray(body.errors) ? body.errors : [];
  const first: unknown = errors[0];
  if (!isJsonObject(first)) return null;
  const parts = [readText(first.title), readText(first.details)].filter((part) => part !== null);
  return parts.length === 0 ? null : parts.join(' - ').slice(0, MAX_ERROR_DETAIL_CHARS);
}
