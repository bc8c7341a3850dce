// The one place the environment is read. API, worker, scripts and tests share this schema and
// its type, validated once at start-up with an error that names every bad variable.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parseDuration } from './duration.js';

const Duration = (fallback: string, description: string) => Type.String({ default: fallback, pattern: '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h|d)\\s*$', description });
const Optional = (description: string) => Type.Optional(Type.String({ minLength: 1, description }));

export const EnvSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('test'), Type.Literal('production')], { default: 'development' }),
  HOST: Type.String({ default: '127.0.0.1', description: 'Interface the API listens on (0.0.0.0 in containers)' }),
  PORT: Type.Integer({ default: 3000, minimum: 0, maximum: 65535 }),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' }),
  PUBLIC_BASE_URL: Optional('Base URL providers and clients reach the API at; default http://HOST:PORT'),
  DATABASE_URL: Optional('postgres://… ; unset → embedded PGlite in PGLITE_DIR'),
  PGLITE_DIR: Type.String({ default: '.data/pglite' }),
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
  VERIFLOW_LINK_SECRET: Optional('Signs the public links veriflow hands out (Stripe onboarding refresh); required in production when Stripe is configured'),
  SMILEID_API_URL: Type.String({ default: 'https://api.smileidentity.com', description: 'SmileID API origin (https://testapi.smileidentity.com for its test environment)' }),
  SMILEID_PARTNER_ID: Optional('SmileID partner id'),
  SMILEID_API_KEY: Optional('SmileID API key (signs requests; verifies callbacks and job_status responses)'),
  VERIFY_FALLBACK_POLL_AFTER: Duration('24h', 'Poll the provider when no webhook arrived for this long'),
  VERIFY_POLL_INTERVAL: Duration('1h', 'Then poll this often until terminal'),
  VERIFY_SESSION_TTL: Duration('24h', 'Session lifetime when the provider gives none'),
  VERIFY_DECISION_WINDOW: Duration('7d', 'After a decision the workflow stays open this long for newer provider decisions'),
  VERIFY_CONTINUE_AS_NEW_AFTER: Type.Optional(Type.Integer({ minimum: 1, description: 'Continue-as-new after this many history entries in one run (default: when Temporal suggests it)' })),
  SWEEPER_INTERVAL: Duration('5s', 'How often stored-but-undelivered webhooks are re-signalled'),
  SANDBOX_PORT: Type.Integer({ default: 4010, minimum: 0, maximum: 65535 }),
  METRICS_PORT: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'Standalone worker: serve /metrics on this port (the API serves its own at /metrics)' })),
  TEMPORAL_METRICS_BIND: Optional('host:port where the Temporal SDK runtime exports its own Prometheus metrics (worker polls, task latencies)'),
});
export type Env = Static<typeof EnvSchema>;

export class InvalidConfigError extends Error {
  readonly code = 'VF_INVALID_CONFIG';
  override readonly name = 'InvalidConfigError';
}

export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  const known = Object.fromEntries(Object.keys(EnvSchema.properties).flatMap((k) => (source[k] === undefined || source[k] === '' ? [] : [[k, source[k]]])));
  const value = Value.Convert(EnvSchema, Value.Default(EnvSchema, known));
  if (!Value.Check(EnvSchema, value)) {
    const problems = [...Value.Errors(EnvSchema, value)].map((e) => `${e.path.slice(1) || '(root)'}: ${e.message}`);
    throw new InvalidConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}\nSee .env.example for every variable and its default.`);
  }
  // The dev default would let anyone mint onboarding links for any verification id.
  if (value.NODE_ENV === 'production' && value.STRIPE_SECRET_KEY && !value.VERIFLOW_LINK_SECRET) {
    throw new InvalidConfigError('Invalid configuration:\n  VERIFLOW_LINK_SECRET: required in production when Stripe is configured (a long random string)\nSee .env.example for every variable and its default.');
  }
  return value;
}

export interface VerificationTimersConfig {
  fallbackPollAfterMs: number;
  pollIntervalMs: number;
  sessionTtlMs: number;
  decisionWindowMs: number;
}

export function timersFromEnv(env: Env): VerificationTimersConfig {
  return {
    fallbackPollAfterMs: parseDuration(env.VERIFY_FALLBACK_POLL_AFTER),
    pollIntervalMs: parseDuration(env.VERIFY_POLL_INTERVAL),
    sessionTtlMs: parseDuration(env.VERIFY_SESSION_TTL),
    decisionWindowMs: parseDuration(env.VERIFY_DECISION_WINDOW),
  };
}

export function publicBaseUrl(env: Env): string {
  return env.PUBLIC_BASE_URL ?? `http://${env.HOST === '0.0.0.0' ? '127.0.0.1' : env.HOST}:${env.PORT}`;
}

const DEV_LINK_SECRET = 'veriflow-dev-link-secret';

/** The secret for signed public links; a fixed value outside production (parseEnv requires a real one there). */
export function linkSecret(env: Env): string {
  return env.VERIFLOW_LINK_SECRET ?? DEV_LINK_SECRET;
}
