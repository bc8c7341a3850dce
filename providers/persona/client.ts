import { request, type Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import { ProviderRequestError, isRetryableStatus } from '../errors.js';
import type { CreateSessionInput, ProviderSession, ProviderState } from '../types.js';
import { readPersonaInquiry, type PersonaInquiryView } from './inquiry.js';
import { isJsonObject, readText } from './jsonapi.js';
import { retryAfterMs as standardRetryAfterMs } from '../retry-after.js';

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

interface PersonaResponse {
  status: number;
  body: unknown;
}

export function createPersonaClient(config: PersonaApiConfig, options: PersonaClientOptions = {}): PersonaClient {
  // Seed 000 configured `https://withpersona.com/api/v1`; accept both spellings of the base.
  const origin = config.apiUrl.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const now = options.now ?? (() => new Date());

  async function call(method: 'GET' | 'POST', path: string, extra: PersonaRequest = {}): Promise<PersonaResponse> {
    const what = `Persona ${method} ${path.split('?')[0]}`;
    const headers: Record<string, string> = {
      authorization: `Bearer ${config.apiKey}`,
      'persona-version': PERSONA_VERSION,
      accept: 'application/json',
    };
    if (extra.body !== undefined) headers['content-type'] = 'application/json';
    if (extra.idempotencyKey !== undefined) headers['idempotency-key'] = extra.idempotencyKey;

    let response: Dispatcher.ResponseData;
    let text: string;
    try {
      response = await request(`${origin}${path}`, {
        dispatcher: options.dispatcher,
        method,
        headers,
        body: extra.body === undefined ? null : JSON.stringify(extra.body),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      text = await response.body.text();
    } catch (error) {
      // Refused, reset, timed out: nothing says the request was rejected, so it may be retried.
      throw withCause(
        new ProviderRequestError(`${what} failed: ${errorCode(error)}`, {
          provider: 'persona',
          status: null,
          retryable: true,
          retryAfterMs: null,
        }),
        error,
      );
    }

    const status = response.statusCode;
    const body = parseJson(text);
    if (status < 200 || status >= 300) {
      const detail = personaErrorDetail(body);
      throw new ProviderRequestError(`${what} answered ${status}${detail === null ? '' : `: ${detail}`}`, {
        provider: 'persona',
        status,
        retryable: isRetryableStatus(status),
        retryAfterMs: retryAfterMs(response.headers, now()),
      });
    }
    return { status, body };
  }

  function inquiryOf(response: PersonaResponse, what: string): PersonaInquiryView {
    const view = readPersonaInquiry(response.body);
    if (view === null) {
      // A 2xx without an inquiry will not improve by asking again.
      throw new ProviderRequestError(`${what} answered ${response.status} without an inquiry`, {
        provider: 'persona',
        status: response.status,
        retryable: false,
        retryAfterMs: null,
      });
    }
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
        throw new ProviderRequestError(
          `Persona inquiry ${inquiry.inquiryId} has status ${JSON.stringify(inquiry.rawStatus)}, which veriflow does not know`,
          { provider: 'persona', status: response.status, retryable: false, retryAfterMs: null },
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

function firstHeader(value: string | string[] | undefined): string | null {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? null : first.trim();
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Persona errors: `{ errors: [{ title, details }] }`; only the first, shortened, goes into our message. */
function personaErrorDetail(body: unknown): string | null {
  const errors = isJsonObject(body) && Array.isArray(body.errors) ? body.errors : [];
  const first: unknown = errors[0];
  if (!isJsonObject(first)) return null;
  const parts = [readText(first.title), readText(first.details)].filter((part) => part !== null);
  return parts.length === 0 ? null : parts.join(' - ').slice(0, MAX_ERROR_DETAIL_CHARS);
}

function errorCode(error: unknown): string {
  if (isJsonObject(error) && typeof error.code === 'string') return error.code;
  return error instanceof Error ? error.message : String(error);
}

function withCause<E extends Error>(error: E, cause: unknown): E {
  error.cause = cause;
  return error;
}
