import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { isRetryableStatus } from '../errors.ts';
import { createProviderHttp, firstHeader, type ProviderResponse } from '../http.ts';
import { isJsonObject, readString } from '../json.ts';
import { readStripeAccount, type StripeAccountView } from './account-state.ts';
import { retryAfterMs } from '../retry-after.ts';

export const STRIPE_DEFAULT_API_URL = 'https://api.stripe.com';
// Pinned to the version the installed `stripe` package (23.1.0) is generated for, so the
// Account shape we read is the one its types describe, whatever the account's default is.
export const STRIPE_API_VERSION = '2026-10-28.endive';

export interface StripeApiConfig {
  /** Stripe's origin; `https://api.stripe.com` by default (the sandbox in dev and tests). */
  apiUrl?: string;
  /** `sk_…` (or a restricted `rk_…` key with Connect write access). */
  secretKey: string;
  /** Where Stripe sends the user when an onboarding link for this account has expired or was already used. */
  refreshUrl(verificationId: string, accountId: string): string;
  /** Where Stripe sends the user when they leave onboarding (done or not: the webhook says which). */
  returnUrl(verificationId: string): string;
}

export interface StripeClientOptions {
  /** undici dispatcher (Agent, Pool, MockAgent); the global one by default. */
  dispatcher?: Dispatcher;
  /** Header and body timeout per request. */
  timeoutMs?: number;
  now?: () => Date;
}

export interface StripeAccountLink {
  url: string;
  expiresAt: string;
}

export interface StripeClient {
  /** An Express account carrying our verification id in its metadata; idempotent by key. */
  createAccount(input: { verificationId: string; idempotencyKey: string }): Promise<StripeAccountView>;
  /** A fresh, single-use onboarding link (Stripe's expire within minutes). */
  createAccountLink(input: { accountId: string; verificationId: string }): Promise<StripeAccountLink>;
  retrieveAccount(accountId: string): Promise<StripeAccountView>;
}

const DEFAULT_TIMEOUT_MS = 20_000;
const MAX_ERROR_DETAIL_CHARS = 200;

type FormValue = string | number | boolean | null | undefined | FormValue[] | { [key: string]: FormValue };

export function createStripeClient(config: StripeApiConfig, options: StripeClientOptions = {}): StripeClient {
  const http = createProviderHttp({
    provider: 'stripe',
    label: 'Stripe',
    origin: (config.apiUrl ?? STRIPE_DEFAULT_API_URL).replace(/\/+$/, '').replace(/\/v1$/, ''),
    dispatcher: options.dispatcher,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    now: options.now ?? (() => new Date()),
    errorDetail: stripeErrorDetail,
    retryable: shouldRetry,
  });

  function call(
    method: 'GET' | 'POST',
    path: string,
    form?: Record<string, FormValue>,
    idempotencyKey?: string,
  ): Promise<ProviderResponse> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${config.secretKey}`,
      'stripe-version': STRIPE_API_VERSION,
      accept: 'application/json',
    };
    if (form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
    return http.call({ method, path, headers, ...(form === undefined ? {} : { body: encodeStripeForm(form) }) });
  }

  function accountOf(response: ProviderResponse, what: string): StripeAccountView {
    const account = readStripeAccount(response.body);
    if (account === null) throw http.unusable(what, response, 'without an account');
    return account;
  }

  return {
    async createAccount({ verificationId, idempotencyKey }) {
      const response = await call(
        'POST',
        '/v1/accounts',
        {
          type: 'express',
          // Payments and payouts are what the seed's consultants need to be "active".
          capabilities: { card_payments: { requested: true }, transfers: { requested: true } },
          // Routing key: account.updated webhooks echo it back as our verification id.
          metadata: { verification_id: verificationId },
        },
        idempotencyKey,
      );
      return accountOf(response, 'Stripe POST /v1/accounts');
    },

    async createAccountLink({ accountId, verificationId }) {
      const response = await call(
        'POST',
        '/v1/account_links',
        {
          account: accountId,
          type: 'account_onboarding',
          refresh_url: config.refreshUrl(verificationId, accountId),
          return_url: config.returnUrl(verificationId),
        },
        // Every call must yield a *new* link (the old one expired or was used), so never replay an
        // earlier answer; the key only guards against a network-level duplicate of this request.
        randomUUID(),
      );
      const body = isJsonObject(response.body) ? response.body : {};
      const url = readString(body.url);
      const expiresAt = typeof body.expires_at === 'number' ? new Date(body.expires_at * 1000).toISOString() : null;
      if (url === null || expiresAt === null) {
        throw http.unusable('Stripe POST /v1/account_links', response, 'without url and expires_at');
      }
      return { url, expiresAt };
    },

    async retrieveAccount(accountId) {
      const path = `/v1/accounts/${encodeURIComponent(accountId)}`;
      return accountOf(await call('GET', path), `Stripe GET ${path}`);
    },
  };
}

/**
 * Stripe's form encoding: nested objects as `a[b][c]=v`, arrays as `a[0]=v`, booleans as
 * `true`/`false`; null and undefined are left out (an empty string would *unset* a field).
 */
export function encodeStripeForm(params: Record<string, FormValue>): string {
  const pairs: [string, string][] = [];
  const visit = (key: string, value: FormValue): void => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) value.forEach((item, index) => visit(`${key}[${index}]`, item));
    else if (typeof value === 'object') for (const [child, item] of Object.entries(value)) visit(`${key}[${child}]`, item);
    else pairs.push([key, String(value)]);
  };
  for (const [key, value] of Object.entries(params)) visit(key, value);
  return new URLSearchParams(pairs).toString();
}

/** `Retry-After` (seconds or HTTP date) in ms, when Stripe sends it. */
export const stripeRetryAfterMs = retryAfterMs;

// Stripe says explicitly whether a retry is safe (`Stripe-Should-Retry`); its word beats our status rule.
function shouldRetry(status: number, headers: IncomingHttpHeaders): boolean {
  const advice = firstHeader(headers['stripe-should-retry']);
  if (advice === 'true') return true;
  if (advice === 'false') return false;
  return isRetryableStatus(status);
}

/** Stripe errors: `{ error: { type, code?, message, param? } }`; shortened into our message. */
function stripeErrorDetail(body: unknown): string | null {
  const error = isJsonObject(body) && isJsonObject(body.error) ? body.error : null;
  if (error === null) return null;
  const label = readString(error.code) ?? readString(error.type);
  const message = readString(error.message);
  const text = [label, message].filter((part) => part !== null).join(': ');
  return text === '' ? null : text.slice(0, MAX_ERROR_DETAIL_CHARS);
}
