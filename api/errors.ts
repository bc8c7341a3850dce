// Every failure the API answers with is one `ApiError` with a stable `code`, built by the small
// factories below (one per HTTP status). The central error handler turns them into RFC 9457
// problem details; nothing else builds error bodies.

export interface ProblemOptions {
  detail: string;
  action?: string;
}

type WithCode = ProblemOptions & { code: string };
type WithOptionalCode = ProblemOptions & { code?: string };

export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly code: string;
  readonly action: string | undefined;
  constructor(status: number, title: string, code: string, { detail, action }: ProblemOptions) {
    super(detail);
    this.status = status;
    this.title = title;
    this.code = code;
    this.action = action;
  }
}

export const badRequest = ({ code = 'bad_request', ...options }: WithOptionalCode) => new ApiError(400, 'Bad request', code, options);

export const unauthorized = ({ code = 'unauthorized', ...options }: WithOptionalCode) => new ApiError(401, 'Unauthorized', code, options);

export const forbidden = ({ code, ...options }: WithCode) => new ApiError(403, 'Forbidden', code, options);

export const notFound = (options: ProblemOptions) => new ApiError(404, 'Not found', 'not_found', options);

export const conflict = ({ code = 'conflict', ...options }: WithOptionalCode) => new ApiError(409, 'Conflict', code, options);

export const gone = ({ code, ...options }: WithCode) => new ApiError(410, 'Gone', code, options);

export const idempotencyMismatch = (options: ProblemOptions) =>
  new ApiError(422, 'Idempotency key reused with a different request', 'idempotency_key_reused', options);

export const unprocessable = ({ code, ...options }: WithCode) => new ApiError(422, 'Unprocessable content', code, options);

export const rateLimited = ({ code = 'rate_limited', ...options }: WithOptionalCode) =>
  new ApiError(429, 'Too many requests', code, options);

export const serviceUnavailable = ({ code, ...options }: WithCode) => new ApiError(503, 'Service unavailable', code, options);
