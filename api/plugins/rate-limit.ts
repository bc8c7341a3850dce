// Rate limit per API key on /v1/*: RATE_LIMIT_MAX requests per RATE_LIMIT_WINDOW, then 429
// problem+json with Retry-After. Provider webhooks (/webhooks/*), health, metrics and docs are
// never limited: a provider retrying a burst must not lose events to our limiter.
//
// The counters live in this process (one API replica, or a per-replica limit behind a load
// balancer); @fastify/rate-limit takes a Redis store when a shared limit is needed.
import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseDuration } from '../../config/duration.js';
import type { Env } from '../../config/env.js';
import { RateLimitedError } from '../errors.js';
import { presentedKey } from './auth.js';

const LIMITED_PREFIX = '/v1/';

/** The key's hash, like the stored one: raw keys never sit in the limiter's memory. Requests without a key count per address. */
function limitKey(request: FastifyRequest): string {
  const key = presentedKey(request);
  return key ? `key:${createHash('sha256').update(key).digest('hex')}` : `ip:${request.ip}`;
}

export async function registerRateLimit(app: FastifyInstance, env: Pick<Env, 'RATE_LIMIT_MAX' | 'RATE_LIMIT_WINDOW'>): Promise<void> {
  const windowMs = parseDuration(env.RATE_LIMIT_WINDOW);
  await app.register(rateLimit, {
    global: true,
    max: env.RATE_LIMIT_MAX,
    timeWindow: windowMs,
    // Route-level onRequest hooks run after the auth hook: a request without a valid key is a 401 first.
    hook: 'onRequest',
    keyGenerator: limitKey,
    allowList: (request) => !(request.routeOptions.url ?? request.url).startsWith(LIMITED_PREFIX),
    addHeadersOnExceeding: { 'x-ratelimit-limit': true, 'x-ratelimit-remaining': true, 'x-ratelimit-reset': true },
    addHeaders: { 'x-ratelimit-limit': true, 'x-ratelimit-remaining': true, 'x-ratelimit-reset': true, 'retry-after': true },
    errorResponseBuilder: (_request, context) =>
      new RateLimitedError({
        detail: `Rate limit exceeded: ${context.max} requests per ${windowLabel(windowMs)} for this API key`,
        action: `Wait ${Math.max(1, Math.ceil(context.ttl / 1000))} s (Retry-After), then retry; spread requests out or ask for a higher limit.`,
      }),
  });
}

function windowLabel(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}
