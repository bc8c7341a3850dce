import type { IncomingHttpHeaders } from 'node:http';
import { request, type Dispatcher } from 'undici';
import { ProviderRequestError, isRetryableStatus } from './errors.ts';
import { isJsonObject, parseJson } from './json.ts';
import { retryAfterMs as standardRetryAfterMs } from './retry-after.ts';

// The one way adapters talk HTTP to a provider: undici with per-request timeouts, the body read
// as JSON, and every failure a ProviderRequestError that says whether retrying can help.

export interface ProviderHttpOptions {
  /** `provider` in ProviderRequestError details, e.g. 'persona'. */
  provider: string;
  /** How messages name the provider, e.g. 'Persona'. */
  label: string;
  origin: string;
  dispatcher: Dispatcher | undefined;
  timeoutMs: number;
  now: () => Date;
  /** The provider's error body, shortened for our message; null when it has none. */
  errorDetail(body: unknown): string | null;
  /** Whether a non-2xx status may be retried; 408, 429 and 5xx by default. */
  retryable?(status: number, headers: IncomingHttpHeaders): boolean;
  /** How long to wait before a retry; `Retry-After` by default. */
  retryAfterMs?(headers: IncomingHttpHeaders, now: Date): number | null;
}

export interface ProviderRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

export interface ProviderResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Parsed JSON; null when the body is not JSON. */
  body: unknown;
}

export interface ProviderHttp {
  /** Sends and parses; only a transport failure throws (retryable: nothing says it was rejected). */
  send(req: ProviderRequest): Promise<ProviderResponse>;
  /** As `send`, and a non-2xx answer throws `failure`. */
  call(req: ProviderRequest): Promise<ProviderResponse>;
  /** The error for a non-2xx answer. */
  failure(what: string, response: ProviderResponse): ProviderRequestError;
  /** A 2xx that is not the documented shape will not improve by asking again. */
  unusable(what: string, response: ProviderResponse, problem: string): ProviderRequestError;
  /** A request that cannot succeed as asked: not retryable. */
  rejected(message: string, status?: number | null): ProviderRequestError;
  /** `<Label> <METHOD> <path without query>`, how messages name a call. */
  describe(req: Pick<ProviderRequest, 'method' | 'path'>): string;
}

export function createProviderHttp(options: ProviderHttpOptions): ProviderHttp {
  const retryable = options.retryable ?? ((status: number) => isRetryableStatus(status));
  const retryAfterMs = options.retryAfterMs ?? standardRetryAfterMs;
  const describe = ({ method, path }: Pick<ProviderRequest, 'method' | 'path'>) => `${options.label} ${method} ${path.split('?')[0]}`;
  const rejected = (message: string, status: number | null = null) =>
    new ProviderRequestError(message, { provider: options.provider, status, retryable: false, retryAfterMs: null });

  async function send(req: ProviderRequest): Promise<ProviderResponse> {
    const timeout = req.timeoutMs ?? options.timeoutMs;
    let response: Dispatcher.ResponseData;
    let text: string;
    try {
      response = await request(`${options.origin}${req.path}`, {
        dispatcher: options.dispatcher,
        method: req.method,
        headers: req.headers,
        body: req.body ?? null,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      text = await response.body.text();
    } catch (error) {
      // Refused, reset, timed out: nothing says the request was rejected, so it may be retried
      // (POSTs carry idempotency keys or are reads).
      const failure = new ProviderRequestError(`${describe(req)} failed: ${errorCode(error)}`, {
        provider: options.provider,
        status: null,
        retryable: true,
        retryAfterMs: null,
      });
      failure.cause = error;
      throw failure;
    }
    return { status: response.statusCode, headers: response.headers, body: parseJson(text) ?? null };
  }

  function failure(what: string, response: ProviderResponse): ProviderRequestError {
    const detail = options.errorDetail(response.body);
    return new ProviderRequestError(`${what} answered ${response.status}${detail === null ? '' : `: ${detail}`}`, {
      provider: options.provider,
      status: response.status,
      retryable: retryable(response.status, response.headers),
      retryAfterMs: retryAfterMs(response.headers, options.now()),
    });
  }

  return {
    send,
    failure,
    rejected,
    describe,
    async call(req) {
      const response = await send(req);
      if (!isSuccess(response.status)) throw failure(describe(req), response);
      return response;
    },
    unusable: (what, response, problem) => rejected(`${what} answered ${response.status} ${problem}`, response.status),
  };
}

export function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

/** The header's first value, trimmed; null when absent. */
export function firstHeader(value: string | string[] | undefined): string | null {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? null : first.trim();
}

function errorCode(error: unknown): string {
  if (isJsonObject(error) && typeof error.code === 'string') return error.code;
  return error instanceof Error ? error.message : String(error);
}
