// Rate limit per API key on /v1/*: RATE_LIMIT_MAX requests per RATE_LIMIT_WINDOW, then 429
// problem+json with Retry-After. Provider webhooks (/webhooks/*), health, metrics and docs are
// never limited: a provider retrying a burst must not lose events to our limiter.
// Two limits per client address come before any key is checked: requests with a missing or
// invalid key (each costs a hash and a database lookup; RATE_LIMIT_INVALID_KEY_MAX), and the
// public session routes, which call a provider on every hit (RATE_LIMIT_SESSION_LINK_MAX).
//
// The counters live in this process (one API replica, or a per-replica limit behind a load
// balancer); @fastify/rate-limit takes a Redis store when a shared limit is needed.
import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest, RouteShorthandOptions } from 'fastify';
import type { RateLimits } from '../../config/env.ts';
import { AddressFailures } from './address-failures.ts';
import { rateLimited } from '../errors.ts';
import { presentedKey } from './auth.ts';

const LIMITED_PREFIX = '/v1/';

/** The key's hash, like the stored one: raw keys never sit in the limiter's memory. Requests without a key count per address. */
function limitKey(request: FastifyRequest): string {
  const key = presentedKey(request);
  return key ? `key:${createHash('sha256').update(key).digest('hex')}` : `ip:${request.ip}`;
}

const retryAfterSeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
const isLimited = (request: FastifyRequest) => (request.routeOptions.url ?? request.url).startsWith(LIMITED_PREFIX);

export async function registerRateLimit(app: FastifyInstance, { perKeyMax, invalidKeyMax, windowMs }: RateLimits): Promise<void> {
  limitInvalidKeysPerAddress(app, invalidKeyMax, windowMs);
  await app.register(rateLimit, {
    global: true,
    max: perKeyMax,
    timeWindow: windowMs,
    // Route-level onRequest hooks run after the auth hook: a request without a valid key is a 401 first.
    hook: 'onRequest',
    keyGenerator: limitKey,
    allowList: (request) => !isLimited(request),
    addHeadersOnExceeding: { 'x-ratelimit-limit': true, 'x-ratelimit-remaining': true, 'x-ratelimit-reset': true },
    addHeaders: { 'x-ratelimit-limit': true, 'x-ratelimit-remaining': true, 'x-ratelimit-reset': true, 'retry-after': true },
    errorResponseBuilder: (_request, context) =>
      rateLimited({
        detail: `Rate limit exceeded: ${context.max} requests per ${windowLabel(windowMs)} for this API key`,
        action: `Wait ${retryAfterSeconds(context.ttl)} s (Retry-After), then retry; spread requests out or ask for a higher limit.`,
      }),
  });
}

/**
 * Root hooks run before the auth hook of every /v1 scope: an address over its budget of rejected
 * keys is refused before its key is hashed or looked up. Every 401 on /v1 spends the budget.
 */
function limitInvalidKeysPerAddress(app: FastifyInstance, max: number, windowMs: number): void {
  const failures = new AddressFailures(windowMs);
  app.addHook('onRequest', async (request, reply) => {
    if (!isLimited(request)) return;
    const waitMs = failures.blockedFor(request.ip, max);
    if (waitMs === 0) return;
    reply.header('retry-after', String(retryAfterSeconds(waitMs)));
    throw rateLimited({
      detail: `Too many requests with invalid API keys from this address: ${max} per ${windowLabel(windowMs)}`,
      action: `Wait ${retryAfterSeconds(waitMs)} s (Retry-After), then retry with a valid key ('Authorization: Bearer <api key>').`,
    });
  });
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode === 401 && isLimited(request)) failures.record(request.ip);
  });
}

/** Route config for a public route (no API key): RATE_LIMIT_SESSION_LINK_MAX per client address per window. */
export function perAddressRateLimit({ sessionLinkMax, windowMs }: RateLimits): NonNullable<RouteShorthandOptions['config']> {
  return {
    rateLimit: {
      max: sessionLinkMax,
      timeWindow: windowMs,
      allowList: () => false,
      keyGenerator: (request: FastifyRequest) => `ip:${request.ip}`,
      errorResponseBuilder: (_request: FastifyRequest, context: { max: number; ttl: number }) =>
        rateLimited({
          detail: `Too many requests from this address: ${context.max} per ${windowLabel(windowMs)}`,
          action: `Wait ${retryAfterSeconds(context.ttl)} s (Retry-After), then reload the page.`,
        }),
    },
  };
}

function windowLabel(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}
