import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  action?: string;
  correlationId: string;
}

const TYPE_BASE = 'https://veriflow.dev/problems/';

function problemOf(error: FastifyError | ApiError, correlationId: string): Problem {
  if (error instanceof ApiError) {
    return {
      type: TYPE_BASE + error.code,
      title: error.title,
      status: error.status,
      detail: error.message,
      code: error.code,
      ...(error.action ? { action: error.action } : {}),
      correlationId,
    };
  }
  return fromFrameworkError(error, correlationId);
}

// Fastify's own 4xx (validation, content type, size, JSON syntax) keep their status; their
// messages are about the request, so they are safe to show. Anything else is a 500 whose
// internals stay in the log.
function fromFrameworkError(error: FastifyError, correlationId: string): Problem {
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  const base = { correlationId, status };
  if (error.validation) {
    const where = error.validationContext ?? 'request';
    const first = error.validation[0];
    const field = first?.instancePath
      ? first.instancePath.slice(1).replaceAll('/', '.')
      : (first?.params as { missingProperty?: string } | undefined)?.missingProperty;
    const detail = field ? `${where} field '${field}' ${first?.message ?? 'is invalid'}` : `${where} ${error.message}`;
    return {
      ...base,
      type: TYPE_BASE + 'validation_failed',
      title: 'Validation failed',
      detail,
      code: 'validation_failed',
      action: 'Fix the field named in detail and send the request again.',
    };
  }
  const known: Record<number, [string, string, string]> = {
    400: ['bad_request', 'Bad request', 'Send a well-formed JSON body.'],
    413: ['payload_too_large', 'Payload too large', 'Bodies are limited to 1 MiB.'],
    415: ['unsupported_media_type', 'Unsupported media type', "Send the body as 'application/json'."],
    429: ['rate_limited', 'Too many requests', 'Wait for the number of seconds in Retry-After, then retry.'],
  };
  const entry = known[status];
  if (entry) {
    const [code, title, action] = entry;
    return { ...base, type: TYPE_BASE + code, title, detail: safeDetail(error), code, action };
  }
  if (status < 500)
    return { ...base, type: TYPE_BASE + 'request_error', title: 'Request error', detail: error.message, code: 'request_error' };
  return {
    ...base,
    type: TYPE_BASE + 'internal_error',
    title: 'Internal error',
    detail: 'Something went wrong on our side; it has been logged.',
    code: 'internal_error',
    action: `Retry later; quote correlation id ${correlationId} if it persists.`,
  };
}

/** JSON.parse quotes the text around a syntax error, which may be personal data: say where, never what. */
function safeDetail(error: FastifyError): string {
  if (!(error instanceof SyntaxError)) return error.message;
  const position = /position (\d+)/.exec(error.message)?.[1];
  return `The body is not valid JSON${position === undefined ? '' : ` (at position ${position})`}`;
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | ApiError, request: FastifyRequest, reply: FastifyReply) => {
    const problem = problemOf(error, String(request.id));
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: problem.code, status: problem.status }, 'request rejected');
    return sendProblem(reply, problem);
  });
  const routes = new RouteTable();
  app.addHook('onRoute', (route) => routes.add(route.url, [route.method].flat()));
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    // A known path asked with another method: 405 naming the methods it has (fastify says 404).
    const allowed = routes.methodsFor(path);
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      reply.header('allow', allowed.join(', '));
      return sendProblem(reply, {
        type: TYPE_BASE + 'method_not_allowed',
        title: 'Method not allowed',
        status: 405,
        detail: `${request.method} is not allowed on ${path}; it accepts ${allowed.join(', ')}`,
        code: 'method_not_allowed',
        action: `Use one of: ${allowed.join(', ')}.`,
        correlationId: String(request.id),
      });
    }
    return sendProblem(reply, {
      type: TYPE_BASE + 'route_not_found',
      title: 'Not found',
      status: 404,
      detail: `No route ${request.method} ${request.url.split('?')[0]}`,
      code: 'route_not_found',
      action: 'See /docs for the routes this API offers.',
      correlationId: String(request.id),
    });
  });
}

/** Every registered path pattern with its methods: enough of the router to answer "which methods does this path take?". */
class RouteTable {
  private readonly routes = new Map<string, { pattern: RegExp; methods: Set<string> }>();

  add(url: string, methods: string[]): void {
    const entry = this.routes.get(url) ?? { pattern: patternOf(url), methods: new Set<string>() };
    for (const method of methods) entry.methods.add(method.toUpperCase());
    // Fastify answers HEAD for every GET route.
    if (entry.methods.has('GET')) entry.methods.add('HEAD');
    this.routes.set(url, entry);
  }

  methodsFor(path: string): string[] {
    const methods = new Set<string>();
    for (const { pattern, methods: own } of this.routes.values()) if (pattern.test(path)) own.forEach((m) => methods.add(m));
    return [...methods].sort();
  }
}

/** `/v1/verifications/:id` -> /^\/v1\/verifications\/[^/]+$/; a `*` segment matches the rest. */
function patternOf(url: string): RegExp {
  const segments = url.split('/').map((segment) => {
    if (segment.includes('*')) return '.*';
    if (segment.includes(':')) return '[^/]+';
    return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return new RegExp(`^${segments.join('/')}$`);
}
