// The one place the environment is read. API, worker, scripts and tests share this schema and
// its type, validated once at start-up with an error that names every bad variable.
import { Type, type Static } from '@sinclair/typebox';
import { Value, type ValueError } from '@sinclair/typebox/value';
import { DEFAULT_WEBHOOK_RETRY_SCHEDULE } from '../domain/retry-schedule.ts';
import { PROVIDER_NAMES, type ProviderName } from '../domain/verification.ts';
import type { VerificationTimers } from '../domain/timers.ts';
import type { ReadBudgetSettings } from '../activities/read-budget.ts';
import { parseDuration, parseDurationList } from './duration.ts';

const Duration = (fallback: string, description: string) =>
  Type.String({ default: fallback, pattern: '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h|d)\\s*$', description });
const Optional = (description: string) => Type.Optional(Type.String({ minLength: 1, description }));
// One `provider=reads-per-second` entry of PROVIDER_READS_PER_SECOND_BY_PROVIDER (above zero).
const RATE_ENTRY = `(${PROVIDER_NAMES.join('|')})\\s*=\\s*(\\d*[1-9]\\d*(\\.\\d+)?|0*\\.\\d*[1-9]\\d*)`;
// One `kid:base64key` entry of PAYLOAD_ENCRYPTION_KEYS (the key itself is checked by payloadKeyRing).
const KEY_ENTRY = '[A-Za-z0-9._-]{1,64}:[A-Za-z0-9+/_-]+={0,2}';

export const EnvSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('test'), Type.Literal('production')], { default: 'development' }),
  HOST: Type.String({ default: '127.0.0.1', description: 'Interface the API listens on (0.0.0.0 in containers)' }),
  PORT: Type.Integer({ default: 3000, minimum: 0, maximum: 65535 }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  PUBLIC_BASE_URL: Optional('Base URL providers and clients reach the API at; default http://HOST:PORT'),
  DATABASE_URL: Optional('postgres://… ; unset → embedded PGlite in PGLITE_DIR'),
  PGLITE_DIR: Type.String({ default: '.data/pglite' }),
  PGLITE_PORT: Type.Integer({
    default: 5499,
    minimum: 1,
    maximum: 65535,
    description: 'npm run dev serves the embedded database here (127.0.0.1) over the Postgres wire protocol',
  }),
  TEMPORAL_ADDRESS: Optional('host:port of the Temporal frontend; unset in dev → the dev server is started'),
  TEMPORAL_NAMESPACE: Type.String({ default: 'default' }),
  TEMPORAL_TASK_QUEUE: Type.String({ default: 'verifications' }),
  TEMPORAL_API_KEY: Optional('Temporal Cloud API key (implies TLS)'),
  TEMPORAL_TLS: Type.Boolean({ default: false }),
  VERIFLOW_DEV_API_KEY: Type.String({ default: 'vf_dev_key', minLength: 8 }),
  PERSONA_API_URL: Type.String({ default: 'https://api.withpersona.com' }),
  PERSONA_API_KEY: Optional('Persona API key'),
  PERSONA_WEBHOOK_SECRET: Optional('Persona webhook secret; several may be given comma-separated during rotation'),
  PERSONA_TEMPLATE_ID: Optional('Default Persona inquiry template (itmpl_…)'),
  STRIPE_API_URL: Type.String({ default: 'https://api.stripe.com' }),
  STRIPE_SECRET_KEY: Optional('Stripe secret key (sk_…) of the Connect platform'),
  STRIPE_WEBHOOK_SECRET: Optional('Stripe webhook endpoint secret (whsec_…); several may be given comma-separated during rotation'),
  VERIFLOW_LINK_SECRET: Optional(
    'Signs the public links veriflow hands out (Stripe onboarding refresh); required in production when Stripe is configured',
  ),
  SMILEID_API_URL: Type.String({
    default: 'https://api.smileidentity.com',
    description: 'SmileID API origin (https://testapi.smileidentity.com for its test environment)',
  }),
  SMILEID_PARTNER_ID: Optional('SmileID partner id'),
  SMILEID_API_KEY: Optional('SmileID API key (signs requests; verifies callbacks and job_status responses)'),
  IDMETA_API_URL: Type.String({
    default: 'https://integrate.idmetagroup.com',
    description: 'IDmeta API origin (your environment subdomain; a trailing /api is tolerated)',
  }),
  IDMETA_API_KEY: Optional('IDmeta API token (Bearer)'),
  IDMETA_WEBHOOK_SECRET: Optional(
    'Secret the IDmeta templates sign webhooks with (X-IDmeta-Signature); several may be given comma-separated during rotation',
  ),
  IDMETA_TEMPLATE_ID: Optional(
    'Default IDmeta template (trust flow) id when a verification names none; else the first active synced template',
  ),
  VERIFY_FALLBACK_POLL_AFTER: Duration('24h', 'Poll the provider when no webhook arrived for this long'),
  VERIFY_POLL_INTERVAL: Duration('1h', 'Then poll this often until terminal'),
  VERIFY_SESSION_TTL: Duration('24h', 'Session lifetime when the provider gives none'),
  VERIFY_DECISION_WINDOW: Duration('7d', 'After a decision the workflow stays open this long for newer provider decisions'),
  VERIFY_CONTINUE_AS_NEW_AFTER: Type.Optional(
    Type.Integer({
      minimum: 1,
      description: 'Continue-as-new after this many history entries in one run (default: when Temporal suggests it)',
    }),
  ),
  RETENTION_PERSONAL_DATA: Type.Optional(
    Type.String({
      pattern: '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h|d)\\s*$',
      description:
        "Erase a verification's personal data this long after its decision (e.g. 90d), by a Temporal schedule; unset → kept until DELETE /v1/verifications/:id/personal-data",
    }),
  ),
  SWEEPER_INTERVAL: Duration('5s', 'How often stored-but-undelivered webhooks are re-signalled'),
  SWEEPER_MAX_ATTEMPTS: Type.Integer({
    default: 10,
    minimum: 1,
    description: 'Failed signals (Temporal refusing the row, not Temporal down) after which a stored webhook is set aside as undeliverable',
  }),
  WEBHOOK_DISPATCH_CONCURRENCY: Type.Integer({
    default: 8,
    minimum: 1,
    maximum: 256,
    description:
      'Signals of stored webhooks one API process has in flight at once (one verification’s events go one at a time, in the order stored); the webhook answer never waits for them',
  }),
  WEBHOOK_DISPATCH_BATCH: Type.Integer({
    default: 100,
    minimum: 1,
    maximum: 1000,
    description: 'Stored webhook events the dispatcher claims per database round trip',
  }),
  PROVIDER_READS_PER_SECOND: Type.Number({
    default: 5,
    exclusiveMinimum: 0,
    description:
      'Reads of a provider’s state the workers together make per second, per provider (fetch-before-apply, polls, rechecks); past it a webhook’s signed body is applied unread and read again soon',
  }),
  PROVIDER_READS_PER_SECOND_BY_PROVIDER: Type.Optional(
    Type.String({
      pattern: `^\\s*${RATE_ENTRY}(\\s*,\\s*${RATE_ENTRY})*\\s*$`,
      description: 'PROVIDER_READS_PER_SECOND for some providers, e.g. `stripe=25,persona=5`',
    }),
  ),
  PROVIDER_READS_BURST: Type.Integer({
    default: 20,
    minimum: 1,
    description: 'Reads of one provider the workers together may make at once after a quiet spell, on top of PROVIDER_READS_PER_SECOND',
  }),
  OUTBOUND_SWEEP_AFTER: Duration(
    '1m',
    'An outbound webhook delivery still pending this long with no delivery run is started by the sweeper',
  ),
  OUTBOUND_RETRY_SCHEDULE: Type.String({
    default: DEFAULT_WEBHOOK_RETRY_SCHEDULE,
    pattern: '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h|d)\\s*(,\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h|d)\\s*)*$',
    description: 'Outbound webhook retries: the wait before each retry, comma-separated; after the last the delivery is dead',
  }),
  OUTBOUND_SECRET_GRACE: Duration(
    '24h',
    'After a rotation of the webhook signing secret, the old one still signs (a second signature) for this long',
  ),
  OUTBOUND_ALLOW_LOOPBACK: Type.Boolean({
    default: false,
    description: 'Let outbound webhooks reach 127.0.0.0/8 and ::1 (local development; npm run dev sets it)',
  }),
  OUTBOUND_ALLOWED_HOSTS: Optional(
    'Comma-separated hostnames outbound webhooks may reach on private addresses (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7); link-local, metadata and multicast stay refused',
  ),
  SMTP_URL: Optional(
    'smtp://user:pass@host:port (smtps:// for TLS) for applicant emails; unset → emailing the hosted link is unavailable (npm run dev: the local catcher)',
  ),
  EMAIL_FROM: Type.String({ default: 'veriflow <no-reply@veriflow.local>', description: 'From address of applicant emails' }),
  RATE_LIMIT_MAX: Type.Integer({ default: 300, minimum: 1, description: 'Requests per API key per RATE_LIMIT_WINDOW on /v1/*' }),
  RATE_LIMIT_WINDOW: Duration('1m', 'Rate-limit window'),
  RATE_LIMIT_INVALID_KEY_MAX: Type.Integer({
    default: 30,
    minimum: 1,
    description:
      'Requests with a missing or invalid API key per client address per RATE_LIMIT_WINDOW on /v1/*; past it the address gets 429 before any key is checked',
  }),
  RATE_LIMIT_SESSION_LINK_MAX: Type.Integer({
    default: 20,
    minimum: 1,
    description: 'Requests per client address per RATE_LIMIT_WINDOW on the public session routes (Stripe onboarding refresh)',
  }),
  OPERATOR_TOKEN: Type.Optional(
    Type.String({
      minLength: 16,
      description: 'Bearer token for operator routes (POST /v1/templates/sync); unset → those routes answer 403',
    }),
  ),
  EVENTS_MAX_STREAMS_PER_TENANT: Type.Integer({
    default: 20,
    minimum: 1,
    description: 'Live streams (GET /v1/verifications/:id/events) one tenant may hold open per API process; past it 429',
  }),
  LIVE_DB_CONNECTIONS: Type.Integer({
    default: 3,
    minimum: 1,
    description:
      'Database connections that waiting requests (Prefer: wait) and live streams may use at once; the rest of the pool (10 per process) stays free for webhook intake',
  }),
  SANDBOX_PORT: Type.Integer({ default: 4010, minimum: 0, maximum: 65535 }),
  DEV_TEMPORAL_PORT: Type.Integer({
    default: 7233,
    minimum: 1,
    maximum: 65535,
    description: 'npm run dev: gRPC port of the Temporal dev server it starts',
  }),
  DEV_TEMPORAL_UI_PORT: Type.Integer({ default: 8233, minimum: 1, maximum: 65535, description: 'npm run dev: Temporal Web UI port' }),
  DEV_TEMPORAL_DB: Type.String({ default: '.data/temporal.sqlite', description: 'npm run dev: SQLite file of the Temporal dev server' }),
  DEV_MAIL_PORT: Type.Integer({
    default: 1025,
    minimum: 1,
    maximum: 65535,
    description: 'npm run dev: SMTP port of the local mail catcher',
  }),
  METRICS_PORT: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 65535,
      description: 'Standalone worker: serve /metrics on this port (the API serves its own at /metrics)',
    }),
  ),
  TEMPORAL_METRICS_BIND: Optional(
    'host:port where the Temporal SDK runtime exports its own Prometheus metrics (worker polls, task latencies)',
  ),
  OTEL_EXPORTER_OTLP_ENDPOINT: Type.Optional(
    Type.String({
      pattern: '^https?://',
      description: 'OpenTelemetry collector base URL (OTLP/HTTP, protobuf; spans go to <endpoint>/v1/traces). Unset: tracing is off',
    }),
  ),
  OTEL_SERVICE_NAME: Optional('service.name of the exported spans; default veriflow-api / veriflow-worker'),
  PAYLOAD_ENCRYPTION_KEYS: Type.Optional(
    Type.String({
      pattern: `^\\s*${KEY_ENTRY}(\\s*,\\s*${KEY_ENTRY})*\\s*$`,
      description:
        'Temporal payload encryption key ring, `kid:base64key[,kid:base64key…]` (32-byte AES-256-GCM keys): the first encrypts, all decrypt. Required in production; a fixed dev key otherwise',
    }),
  ),
  CODEC_AUTH_TOKEN: Optional(
    'Bearer token for POST /codec/encode|decode (the Web UI / CLI codec endpoint); in production the endpoint is off without it',
  ),
  CODEC_CORS_ORIGINS: Type.String({
    default: 'http://127.0.0.1:8233,http://localhost:8233',
    description: 'Comma-separated browser origins (the Temporal Web UI) allowed to call the codec endpoint',
  }),
  WORKER_MAX_CONCURRENT_ACTIVITIES: Type.Integer({
    default: 100,
    minimum: 1,
    description: 'Activities one worker runs at once (provider calls, persistence)',
  }),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: Type.Integer({ default: 40, minimum: 2, description: 'Workflow tasks one worker runs at once' }),
  WORKER_MAX_CACHED_WORKFLOWS: Type.Integer({
    default: 100,
    minimum: 0,
    description:
      'Open verifications one worker keeps in memory (sticky workflow cache); past it the least recently used is evicted and replayed from its history on its next event. About 100 KB of the workflow thread’s heap each, 280 KB when traced (400 KB with headroom), plus 60 MB: a production worker whose heap limit (--max-old-space-size) is smaller refuses to start (README "Worker memory"); 0: no cache',
  }),
  WORKFLOW_STACK_TRACES: Type.Optional(
    Type.Union([Type.Literal('on'), Type.Literal('off')], {
      description:
        'The Web UI\'s stack trace of a running verification. The SDK captures one for every promise the workflow code creates, 40–55% of the worker\'s workflow CPU (README "Worker CPU"); off: that query fails. Unset: off in production, on elsewhere',
    }),
  ),
  WORKER_CPU_SCHEDULING: Type.Union([Type.Literal('batch'), Type.Literal('normal')], {
    default: 'batch',
    description:
      "Linux scheduling policy of the worker's threads. batch (SCHED_BATCH): the same share of the CPU, but waking workflow work does not preempt the API's requests on a host they share (the bench's Persona ack p99 at 50/s 68–73 → 38–46 ms, a 500/s storm drained as fast: README \"Worker CPU\"); set with util-linux chrt, and the worker warns and runs on where it cannot. normal: the default policy",
  }),
  WORKER_SHUTDOWN_GRACE_TIME: Duration('30s', 'On SIGTERM the worker stops polling and lets in-flight activities finish for this long'),
  SHUTDOWN_DEADLINE: Duration(
    '40s',
    'After SIGTERM/SIGINT the API and the worker exit by this deadline even if draining is not done (keep it above WORKER_SHUTDOWN_GRACE_TIME and below the orchestrator kill timeout); a second signal exits at once',
  ),
  WORKER_BUILD_ID: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z0-9_-]{1,64}$',
      description: 'This build of the workflow code (Worker Versioning; README "Upgrading"); unset: a hash of the workflow bundle',
    }),
  ),
  WORKER_VERSION_PROMOTION: Type.Optional(
    Type.Union([Type.Literal('always'), Type.Literal('initial'), Type.Literal('never')], {
      description:
        'When a starting worker makes its build current: always, initial (only the first deploy), never (set by an operator); unset: initial in production, always elsewhere',
    }),
  ),
});
export type Env = Static<typeof EnvSchema>;

export class InvalidConfigError extends Error {
  readonly code = 'VF_INVALID_CONFIG';
  override readonly name = 'InvalidConfigError';
}

export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  const known = Object.fromEntries(
    Object.keys(EnvSchema.properties).flatMap((k) => (source[k] === undefined || source[k] === '' ? [] : [[k, source[k]]])),
  );
  const value = Value.Convert(EnvSchema, Value.Default(EnvSchema, known));
  if (!Value.Check(EnvSchema, value)) {
    const problems = [...Value.Errors(EnvSchema, value)].map((e) => `${e.path.slice(1) || '(root)'}: ${describeError(e)}`);
    throw new InvalidConfigError(
      `Invalid configuration:\n  ${problems.join('\n  ')}\nSee .env.example for every variable and its default.`,
    );
  }
  if (value.NODE_ENV === 'production') {
    const problems = productionProblems(value);
    if (problems.length > 0) throw new InvalidConfigError(problems.map((p) => `Invalid configuration: ${p}`).join('\n'));
  }
  payloadKeyRing(value);
  // The SDK would quietly lower the task concurrency to the cache size, with a warning nobody reads.
  if (value.WORKER_MAX_CACHED_WORKFLOWS > 0 && value.WORKER_MAX_CACHED_WORKFLOWS < value.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS)
    throw new InvalidConfigError(
      `Invalid configuration:\n  WORKER_MAX_CACHED_WORKFLOWS: ${value.WORKER_MAX_CACHED_WORKFLOWS} is below WORKER_MAX_CONCURRENT_WORKFLOW_TASKS (${value.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS}); raise it, lower that, or set 0 for no cache`,
    );
  return value;
}

/** A pattern means nothing to whoever set the variable: say what it should hold instead. */
function describeError(error: ValueError): string {
  const { pattern, description } = error.schema as { pattern?: string; description?: string };
  return pattern && description ? `expected ${description}` : error.message;
}

// A provider is configured by two variables; with one of them only it would be silently off.
const PROVIDER_PAIRS: [string, keyof Env, keyof Env][] = [
  ['Persona', 'PERSONA_API_KEY', 'PERSONA_WEBHOOK_SECRET'],
  ['Stripe', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET'],
  ['SmileID', 'SMILEID_PARTNER_ID', 'SMILEID_API_KEY'],
  ['IDmeta', 'IDMETA_API_KEY', 'IDMETA_WEBHOOK_SECRET'],
];

/**
 * What production cannot run without, one line each (`VARIABLE: what to set`): the dev defaults
 * behind these would fail later and quietly (an API on an embedded database the worker never
 * sees, providers calling back 127.0.0.1, a provider that is off, payloads under a public key).
 */
function productionProblems(env: Env): string[] {
  const problems: string[] = [];
  if (!env.DATABASE_URL)
    problems.push(
      'DATABASE_URL: required in production (postgres://user:password@host:5432/veriflow, the database API and worker share); the embedded PGlite is for npm run dev only',
    );
  if (!env.PUBLIC_BASE_URL)
    problems.push(
      'PUBLIC_BASE_URL: required in production (the https:// URL providers and clients reach the API at, e.g. https://verify.example.com)',
    );
  for (const [provider, a, b] of PROVIDER_PAIRS) {
    if (env[a] && !env[b])
      problems.push(
        `${b}: required in production when ${a} is set (${provider} is configured by both; unset ${a} to turn ${provider} off)`,
      );
    if (env[b] && !env[a])
      problems.push(
        `${a}: required in production when ${b} is set (${provider} is configured by both; unset ${b} to turn ${provider} off)`,
      );
  }
  // The dev default would let anyone mint onboarding links for any verification id.
  if (env.STRIPE_SECRET_KEY && !env.VERIFLOW_LINK_SECRET)
    problems.push(
      'VERIFLOW_LINK_SECRET: required in production when Stripe is configured (a long random string, e.g. `openssl rand -base64 32`)',
    );
  // Production payloads must not be encrypted with a key that is in the source code.
  if (!env.PAYLOAD_ENCRYPTION_KEYS)
    problems.push('PAYLOAD_ENCRYPTION_KEYS: required in production (kid:base64 of 32 random bytes, e.g. `v1:$(openssl rand -base64 32)`)');
  return problems;
}

/** The workflow's durations; from the environment the retry schedule is always set. */
export function timersFromEnv(env: Env): Required<VerificationTimers> {
  return {
    fallbackPollAfterMs: parseDuration(env.VERIFY_FALLBACK_POLL_AFTER),
    pollIntervalMs: parseDuration(env.VERIFY_POLL_INTERVAL),
    sessionTtlMs: parseDuration(env.VERIFY_SESSION_TTL),
    decisionWindowMs: parseDuration(env.VERIFY_DECISION_WINDOW),
    webhookRetryScheduleMs: parseDurationList(env.OUTBOUND_RETRY_SCHEDULE),
  };
}

/** Rate limits on the API (RATE_LIMIT_*), the window in ms. */
export interface RateLimits {
  perKeyMax: number;
  invalidKeyMax: number;
  sessionLinkMax: number;
  windowMs: number;
}

export function rateLimitsFromEnv(
  env: Pick<Env, 'RATE_LIMIT_MAX' | 'RATE_LIMIT_INVALID_KEY_MAX' | 'RATE_LIMIT_SESSION_LINK_MAX' | 'RATE_LIMIT_WINDOW'>,
): RateLimits {
  return {
    perKeyMax: env.RATE_LIMIT_MAX,
    invalidKeyMax: env.RATE_LIMIT_INVALID_KEY_MAX,
    sessionLinkMax: env.RATE_LIMIT_SESSION_LINK_MAX,
    windowMs: parseDuration(env.RATE_LIMIT_WINDOW),
  };
}

/** The sweepers' clocks (SWEEPER_*, OUTBOUND_SWEEP_AFTER, OUTBOUND_RETRY_SCHEDULE) in ms. */
export interface SweeperSettings {
  intervalMs: number;
  maxAttempts: number;
  outboundSweepAfterMs: number;
  outboundRetryScheduleMs: number[];
}

export function sweeperFromEnv(
  env: Pick<Env, 'SWEEPER_INTERVAL' | 'SWEEPER_MAX_ATTEMPTS' | 'OUTBOUND_SWEEP_AFTER' | 'OUTBOUND_RETRY_SCHEDULE'>,
): SweeperSettings {
  return {
    intervalMs: parseDuration(env.SWEEPER_INTERVAL),
    maxAttempts: env.SWEEPER_MAX_ATTEMPTS,
    outboundSweepAfterMs: parseDuration(env.OUTBOUND_SWEEP_AFTER),
    outboundRetryScheduleMs: parseDurationList(env.OUTBOUND_RETRY_SCHEDULE),
  };
}

/** How stored webhook events are signalled (WEBHOOK_DISPATCH_*). */
export interface WebhookDispatchSettings {
  concurrency: number;
  batch: number;
}

export function webhookDispatchFromEnv(env: Pick<Env, 'WEBHOOK_DISPATCH_CONCURRENCY' | 'WEBHOOK_DISPATCH_BATCH'>): WebhookDispatchSettings {
  return { concurrency: env.WEBHOOK_DISPATCH_CONCURRENCY, batch: env.WEBHOOK_DISPATCH_BATCH };
}

/** The provider read budget the workers share (PROVIDER_READS_*), the rate of every provider. */
export function providerReadBudgetFromEnv(
  env: Pick<Env, 'PROVIDER_READS_PER_SECOND' | 'PROVIDER_READS_PER_SECOND_BY_PROVIDER' | 'PROVIDER_READS_BURST'>,
): Record<ProviderName, ReadBudgetSettings> {
  const rates = new Map(
    commaList(env.PROVIDER_READS_PER_SECOND_BY_PROVIDER).map((entry) => {
      const [provider, rate] = entry.split('=').map((part) => part.trim());
      return [provider, Number(rate)];
    }),
  );
  return Object.fromEntries(
    PROVIDER_NAMES.map((provider) => [
      provider,
      { perSecond: rates.get(provider) ?? env.PROVIDER_READS_PER_SECOND, burst: env.PROVIDER_READS_BURST },
    ]),
  ) as Record<ProviderName, ReadBudgetSettings>;
}

/** A comma-separated setting as its trimmed, non-empty entries (secrets during rotation, origins, hosts). */
export function commaList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/** OUTBOUND_SECRET_GRACE in ms: how long a rotated endpoint secret keeps signing beside the new one. */
export function outboundSecretGraceMs(env: Pick<Env, 'OUTBOUND_SECRET_GRACE'>): number {
  return parseDuration(env.OUTBOUND_SECRET_GRACE);
}

/** SHUTDOWN_DEADLINE in ms: how long API and worker may take to close after a signal. */
export function shutdownDeadlineMs(env: Pick<Env, 'SHUTDOWN_DEADLINE'>): number {
  return parseDuration(env.SHUTDOWN_DEADLINE);
}

/** RETENTION_PERSONAL_DATA in ms; null: personal data is kept until erased on request. */
export function personalDataRetentionMs(env: Pick<Env, 'RETENTION_PERSONAL_DATA'>): number | null {
  return env.RETENTION_PERSONAL_DATA === undefined ? null : parseDuration(env.RETENTION_PERSONAL_DATA);
}

export function publicBaseUrl(env: Env): string {
  return env.PUBLIC_BASE_URL ?? `http://${env.HOST === '0.0.0.0' ? '127.0.0.1' : env.HOST}:${env.PORT}`;
}

const DEV_LINK_SECRET = 'veriflow-dev-link-secret';

/** The secret for signed public links; a fixed value outside production (parseEnv requires a real one there). */
export function linkSecret(env: Env): string {
  return env.VERIFLOW_LINK_SECRET ?? DEV_LINK_SECRET;
}

export interface PayloadKey {
  id: string;
  /** 32 bytes: AES-256-GCM. */
  key: Buffer;
}

/** Public on purpose: it only keeps dev and test histories unreadable at a glance, not secret. */
const DEV_PAYLOAD_KEY: PayloadKey = { id: 'dev', key: Buffer.from('veriflow-dev-payload-key-32bytes', 'utf8') };

/**
 * The key ring for Temporal payload encryption, in PAYLOAD_ENCRYPTION_KEYS order: the first key
 * encrypts, every key decrypts (rotation: put the new key first, keep the old ones until no open
 * workflow history needs them). Outside production the dev key is always in the ring (decrypt
 * only when keys are configured), so local histories stay readable after keys are set.
 */
export function payloadKeyRing(env: Pick<Env, 'NODE_ENV' | 'PAYLOAD_ENCRYPTION_KEYS'>): PayloadKey[] {
  const configured = commaList(env.PAYLOAD_ENCRYPTION_KEYS).map((entry): PayloadKey => {
    const colon = entry.indexOf(':');
    const id = entry.slice(0, colon);
    const key = Buffer.from(entry.slice(colon + 1), 'base64');
    // Never echo the key material: name the key id only.
    if (colon < 1 || key.length !== 32)
      throw new InvalidConfigError(
        `Invalid configuration:\n  PAYLOAD_ENCRYPTION_KEYS: key '${id}' must be base64 of exactly 32 bytes (openssl rand -base64 32)`,
      );
    return { id, key };
  });
  const ids = configured.map((k) => k.id);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate !== undefined)
    throw new InvalidConfigError(`Invalid configuration:\n  PAYLOAD_ENCRYPTION_KEYS: key id '${duplicate}' appears twice`);
  if (env.NODE_ENV === 'production') return configured;
  return ids.includes(DEV_PAYLOAD_KEY.id) ? configured : [...configured, DEV_PAYLOAD_KEY];
}

/** Worker concurrency and shutdown, from the environment (Worker.create options). */
export interface WorkerTuning {
  maxConcurrentActivityTaskExecutions: number;
  maxConcurrentWorkflowTaskExecutions: number;
  maxCachedWorkflows: number;
  shutdownGraceTimeMs: number;
  workflowStackTraces: boolean;
}

export function workerTuningFromEnv(env: Env): WorkerTuning {
  return {
    maxConcurrentActivityTaskExecutions: env.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentWorkflowTaskExecutions: env.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    maxCachedWorkflows: env.WORKER_MAX_CACHED_WORKFLOWS,
    shutdownGraceTimeMs: parseDuration(env.WORKER_SHUTDOWN_GRACE_TIME),
    workflowStackTraces: (env.WORKFLOW_STACK_TRACES ?? (env.NODE_ENV === 'production' ? 'off' : 'on')) === 'on',
  };
}
