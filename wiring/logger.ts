import { isSpanContextValid, trace } from '@opentelemetry/api';
import { pino, type Logger } from 'pino';
import type { Env } from '../config/env.ts';

/** Fields that hold personal data, a credential or a whole provider document, wherever they are logged. */
const SENSITIVE_FIELDS = [
  'applicant',
  'userData',
  'document',
  'payload',
  'body',
  'email',
  'firstName',
  'lastName',
  'middleName',
  'dateOfBirth',
  'birthdate',
  'idNumber',
  'sessionUrl',
];

/**
 * Redaction paths: each field at the top level and one or two levels down (pino's `*` is one
 * level), plus the credential headers of a request.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  ...SENSITIVE_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]),
];

/**
 * A request as logged: no query string (it may carry a signed link's token or a filter with
 * personal data) and no body; fastify's own serializer would log the full URL.
 */
function requestSummary(req: { method?: string; url?: string; ip?: string; routeOptions?: { url?: string } }) {
  return { method: req.method, url: req.url?.split('?')[0], route: req.routeOptions?.url, remoteAddress: req.ip };
}

/** Fields of database errors that hold bound values or row contents (drizzle's `params`, postgres.js's `parameters`, Postgres's `detail`: "Failing row contains (…)"). */
const ERROR_VALUE_FIELDS = ['params', 'parameters', 'detail'];

/**
 * pino's error serializer without the values a failed query was bound to. DrizzleQueryError puts
 * every parameter (a webhook's whole payload, an applicant's data) in `params` and in its message
 * (`Failed query: …\nparams: …`), which pino repeats in `message` and `stack`; the query text
 * itself has only placeholders and stays.
 */
export function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const bound: string[] = [];
  for (let error: unknown = err; error instanceof Error; error = error.cause) {
    const params = (error as { params?: unknown }).params;
    if (Array.isArray(params)) bound.push(`\nparams: ${String(params)}`);
  }
  const scrub = (text: unknown) =>
    typeof text === 'string' ? bound.reduce((out, values) => out.replaceAll(values, '\nparams: [dropped]'), text) : text;
  const serialized: Record<string, unknown> = { ...pino.stdSerializers.err(err) };
  for (const field of ERROR_VALUE_FIELDS) delete serialized[field];
  return { ...serialized, message: scrub(serialized.message), stack: scrub(serialized.stack) };
}

/**
 * The active span's ids (W3C hex, the names Temporal's workflow interceptor logs them under), so a
 * log line leads to its trace. Nothing without tracing: no span is ever active then.
 */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const context = trace.getActiveSpan()?.spanContext();
  return context && isSpanContextValid(context) ? { trace_id: context.traceId, span_id: context.spanId } : {};
}

/**
 * JSON logs with the correlation id as a field. Request and response bodies are never logged
 * (they carry personal data); fields that could, are redacted if someone logs them anyway.
 */
export function createLogger(env: Pick<Env, 'LOG_LEVEL'>, name = 'veriflow', destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name,
    level: env.LOG_LEVEL,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // `error` too: the Temporal runtime and some call sites log failures under that name.
    serializers: { req: requestSummary, err: serializeError, error: serializeError },
    mixin: traceFields,
  };
  // Synchronous on stdout: pino's asynchronous default let the lines a process writes just before
  // exiting (shutdown, a fatal error) overtake one still being written, or, on a crash, lose it.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
}
