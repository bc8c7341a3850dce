// The API and worker run as production would (NODE_ENV=production, every provider configured,
// against the sandbox), with limits lifted so the bench measures the system, not the rate limiter.
import { randomBytes } from 'node:crypto';

export const BENCH_SECRETS = {
  persona: { apiKey: 'bench_persona_key', webhookSecret: 'bench_persona_webhook_secret' },
  stripe: { secretKey: 'sk_test_bench', webhookSecret: 'whsec_bench_secret' },
  idmeta: { apiKey: 'bench_idmeta_key', webhookSecret: 'bench_idmeta_webhook_secret' },
};

/**
 * The worker's process environment as production starts it (docker-compose.yml, `npm run
 * start:worker`): two glibc malloc arenas instead of one per thread (8 × cores), whose freed
 * memory each keeps. 10,000 open verifications (`BENCH_ONLY=scale`, back to back): worker peak RSS
 * 450 MB with the default, 384 MB with 2 (README "Worker memory").
 */
export const WORKER_PROCESS_ENV = { MALLOC_ARENA_MAX: '2' } as const;

export function benchProcessEnv(where: {
  apiPort: number;
  databaseUrl: string;
  temporalAddress: string;
  sandboxUrl: string;
  operatorToken: string;
}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    PORT: String(where.apiPort),
    PUBLIC_BASE_URL: `http://127.0.0.1:${where.apiPort}`,
    DATABASE_URL: where.databaseUrl,
    TEMPORAL_ADDRESS: where.temporalAddress,
    TEMPORAL_TASK_QUEUE: 'verifications-bench',
    PERSONA_API_URL: where.sandboxUrl,
    PERSONA_API_KEY: BENCH_SECRETS.persona.apiKey,
    PERSONA_WEBHOOK_SECRET: BENCH_SECRETS.persona.webhookSecret,
    PERSONA_TEMPLATE_ID: 'itmpl_bench',
    STRIPE_API_URL: where.sandboxUrl,
    STRIPE_SECRET_KEY: BENCH_SECRETS.stripe.secretKey,
    STRIPE_WEBHOOK_SECRET: BENCH_SECRETS.stripe.webhookSecret,
    VERIFLOW_LINK_SECRET: 'bench-link-secret-bench-link-secret',
    IDMETA_API_URL: where.sandboxUrl,
    IDMETA_API_KEY: BENCH_SECRETS.idmeta.apiKey,
    IDMETA_WEBHOOK_SECRET: BENCH_SECRETS.idmeta.webhookSecret,
    PAYLOAD_ENCRYPTION_KEYS: process.env.PAYLOAD_ENCRYPTION_KEYS ?? `bench:${randomBytes(32).toString('base64')}`,
    RATE_LIMIT_MAX: '1000000',
    // The sandbox has no rate limit: the bench measures veriflow, not the provider read budget.
    PROVIDER_READS_PER_SECOND: '1000000',
    PROVIDER_READS_BURST: '1000000',
    VERIFY_FALLBACK_POLL_AFTER: '24h',
    OPERATOR_TOKEN: where.operatorToken,
  };
}
