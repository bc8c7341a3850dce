// Every failure the API answers with, as a class with a stable `code`. The central error
// handler turns them into RFC 9457 problem details; nothing else builds error bodies.

export interface ProblemOptions {
  detail: string;
  action?: string;
}

export abstract class ApiError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  abstract readonly title: string;
  readonly action: string | undefined;
  constructor({ detail, action }: ProblemOptions) {
    super(detail);
    this.action = action;
  }
}

export class BadRequestError extends ApiError {
  readonly status = 400;
  readonly code: string;
  readonly title = 'Bad request';
  constructor(options: ProblemOptions & { code?: string }) {
    super(options);
    this.code = options.code ?? 'bad_request';
  }
}

export class UnauthorizedError extends ApiError {
  readonly status = 401;
  readonly code: string;
  readonly title = 'Unauthorized';
  constructor(options: ProblemOptions & { code?: string }) {
    super(options);
    this.code = options.code ?? 'unauthorized';
  }
}

export class NotFoundError extends ApiError {
  readonly status = 404;
  readonly code = 'not_found';
  readonly title = 'Not found';
}

export class ConflictError extends ApiError {
  readonly status = 409;
  readonly code: string;
  readonly title = 'Conflict';
  constructor(options: ProblemOptions & { code?: string }) {
    super(options);
    this.code = options.code ?? 'conflict';
  }
}

export class IdempotencyMismatchError extends ApiError {
  readonly status = 422;
  readonly code = 'idempotency_key_reused';
  readonly title = 'Idempotency key reused with a different request';
}

export class ServiceUnavailableError extends ApiError {
  readonly status = 503;
  readonly code: string;
  readonly title = 'Service unavailable';
  constructor(options: ProblemOptions & { code: string }) {
    super(options);
    this.code = options.code;
  }
}

export class ForbiddenError extends ApiError {
  readonly status = 403;
  readonly code: string;
  readonly title = 'Forbidden';
  constructor(options: ProblemOptions & { code: string }) {
    super(options);
    this.code = options.code;
  }
}

export class UnprocessableError extends ApiError {
  readonly status = 422;
  readonly code: string;
  readonly title = 'Unprocessable content';
  constructor(options: ProblemOptions & { code: string }) {
    super(options);
    this.code = options.code;
  }
}

export class RateLimitedError extends ApiError {
  readonly status = 429;
  readonly code: string;
  readonly title = 'Too many requests';
  constructor(options: ProblemOptions & { code?: string }) {
    super(options);
    this.code = options.code ?? 'rate_limited';
  }
}

export class MethodNotAllowedError extends ApiError {
  readonly status = 405;
  readonly code = 'method_not_allowed';
  readonly title = 'Method not allowed';
}

export class GoneError extends ApiError {
  readonly status = 410;
  readonly code: string;
  readonly title = 'Gone';
  constructor(options: ProblemOptions & { code: string }) {
    super(options);
    this.code = options.code;
  }
}
