import Stripe from 'stripe';
import t from 'tap';
import { InvalidConfigError, linkSecret, parseEnv } from '../../config/env.ts';
import { WebhookSignatureError } from '../../providers/errors.ts';
import { createProviderRegistry } from '../../providers/index.ts';
import { createStripeAdapter } from '../../providers/stripe/index.ts';
import {
  STRIPE_REFRESH_LINK_TTL_MS,
  STRIPE_REFRESH_PATH,
  isValidStripeRefreshToken,
  stripeRefreshToken,
  stripeRefreshUrl,
  stripeReturnUrl,
} from '../../providers/stripe/refresh-link.ts';
import { providerConfigFromEnv } from '../../wiring/providers.ts';

const config = {
  apiUrl: 'https://api.stripe.com',
  secretKey: 'sk_test_adapter',
  webhookSecret: 'whsec_a',
  refreshUrl: (id: string) => `https://vf.example/refresh/${id}`,
  returnUrl: (id: string) => `https://vf.example/return/${id}`,
};
const rawBody = Buffer.from(
  JSON.stringify({
    id: 'evt_1',
    object: 'event',
    type: 'account.updated',
    created: 1741946712,
    data: { object: { id: 'acct_1', object: 'account', charges_enabled: true, payouts_enabled: true, requirements: {} } },
  }),
);
const now = new Date('2025-03-14T10:05:13Z');
const signature = (secret: string) =>
  Stripe.webhooks.generateTestHeaderString({ payload: rawBody.toString(), secret, timestamp: Math.floor(now.getTime() / 1000) });

t.test('capabilities: fetch before apply, polling, re-verification, long-lived, no session expiry', async (tt) => {
  const adapter = createStripeAdapter(config);
  tt.equal(adapter.name, 'stripe');
  tt.same(adapter.capabilities, {
    fetchBeforeApply: true,
    bodySigned: true,
    polling: true,
    reverification: true,
    sessionExpiry: false,
    longLived: true,
  });
  tt.type(adapter.refreshSession, 'function');
});

t.test('the adapter verifies Stripe-Signature (any header case, any configured secret), then parses', async (tt) => {
  const adapter = createStripeAdapter({ ...config, webhookSecret: ['whsec_old', 'whsec_a'] });
  tt.doesNotThrow(() => adapter.verifyWebhook({ rawBody, headers: { 'stripe-signature': signature('whsec_a') } }, now));
  tt.doesNotThrow(
    () => adapter.verifyWebhook({ rawBody, headers: { 'Stripe-Signature': signature('whsec_old') } }, now),
    'header names are case-insensitive',
  );
  tt.throws(() => adapter.verifyWebhook({ rawBody, headers: {} }, now), /missing/);
  tt.throws(() => adapter.verifyWebhook({ rawBody, headers: { 'stripe-signature': signature('whsec_b') } }, now), WebhookSignatureError);
  tt.throws(
    () => adapter.verifyWebhook({ rawBody, headers: { 'stripe-signature': signature('whsec_a') } }),
    /old/,
    'the real clock by default',
  );
  tt.match(adapter.parseWebhook(rawBody), { providerRef: 'acct_1', providerStatus: 'active', status: 'approved' });
});

t.test('the registry builds stripe from its config', async (tt) => {
  const registry = createProviderRegistry({ stripe: config });
  tt.same(registry.list(), ['stripe']);
  tt.equal(registry.get('stripe').capabilities.longLived, true);
  tt.notOk(registry.has('persona'));
});

t.test('refresh links: an HMAC of the verification id, the account and the expiry, checked in constant time', async (tt) => {
  const id = '3f1c2b9e-8d4a-4c1e-9f2b-7a6d5e4c3b21';
  const claims = { verificationId: id, accountId: 'acct_1A', expiresAt: new Date('2026-12-09T10:00:00Z') };
  const token = stripeRefreshToken('secret-1', claims);
  tt.match(token, /^[A-Za-z0-9_-]{43}$/, 'base64url SHA-256');
  tt.ok(isValidStripeRefreshToken('secret-1', claims, token));
  tt.ok(
    isValidStripeRefreshToken('secret-1', { ...claims, verificationId: id.toUpperCase() }, token),
    'the id is case-insensitive like a uuid',
  );
  tt.ok(
    isValidStripeRefreshToken('secret-1', { ...claims, expiresAt: new Date('2026-12-09T10:00:00.900Z') }, token),
    'the expiry counts in whole seconds, as the URL carries it',
  );
  tt.notOk(isValidStripeRefreshToken('secret-2', claims, token), 'another secret');
  tt.notOk(
    isValidStripeRefreshToken('secret-1', { ...claims, verificationId: '00000000-0000-4000-8000-000000000000' }, token),
    'another verification',
  );
  tt.notOk(isValidStripeRefreshToken('secret-1', { ...claims, accountId: 'acct_1B' }, token), 'another account');
  tt.notOk(isValidStripeRefreshToken('secret-1', { ...claims, expiresAt: new Date('2026-12-10T10:00:00Z') }, token), 'another expiry');
  tt.notOk(isValidStripeRefreshToken('secret-1', claims, token.slice(1)), 'truncated');
  tt.notOk(isValidStripeRefreshToken('secret-1', claims, ''), 'empty');

  const url = new URL(stripeRefreshUrl('https://vf.example/', 'secret-1', claims));
  tt.equal(url.origin + url.pathname, `https://vf.example${STRIPE_REFRESH_PATH}`);
  tt.same(Object.fromEntries(url.searchParams), {
    verification: id,
    account: 'acct_1A',
    expires: String(Date.parse('2026-12-09T10:00:00Z') / 1000),
    token,
  });
  tt.equal(stripeReturnUrl('https://vf.example', id), `https://vf.example/sessions/stripe/return?verification=${id}`);
});

t.test('environment: stripe is configured by its key and secret; links use PUBLIC_BASE_URL', async (tt) => {
  tt.equal(providerConfigFromEnv(parseEnv({ NODE_ENV: 'test' })).stripe, undefined, 'no credentials, no stripe');
  tt.equal(providerConfigFromEnv(parseEnv({ NODE_ENV: 'test', STRIPE_SECRET_KEY: 'sk_x' })).stripe, undefined, 'a key alone is not enough');

  const env = parseEnv({
    NODE_ENV: 'test',
    STRIPE_SECRET_KEY: 'sk_x',
    STRIPE_WEBHOOK_SECRET: 'whsec_1, whsec_2',
    PUBLIC_BASE_URL: 'https://vf.example',
  });
  tt.equal(env.STRIPE_API_URL, 'https://api.stripe.com', 'production API by default');
  const stripe = providerConfigFromEnv(env).stripe!;
  tt.match(stripe, { apiUrl: 'https://api.stripe.com', secretKey: 'sk_x', webhookSecret: ['whsec_1', 'whsec_2'] });
  const id = '3f1c2b9e-8d4a-4c1e-9f2b-7a6d5e4c3b21';
  const refresh = new URL(stripe.refreshUrl(id, 'acct_1A'));
  const expiresAt = new Date(Number(refresh.searchParams.get('expires')) * 1000);
  tt.equal(
    refresh.toString(),
    stripeRefreshUrl('https://vf.example', linkSecret(env), { verificationId: id, accountId: 'acct_1A', expiresAt }),
  );
  tt.ok(
    expiresAt.getTime() > Date.now() && expiresAt.getTime() <= Date.now() + STRIPE_REFRESH_LINK_TTL_MS,
    'valid for STRIPE_REFRESH_LINK_TTL_MS from now',
  );
  tt.equal(stripe.returnUrl(id), `https://vf.example/sessions/stripe/return?verification=${id}`);

  tt.equal(linkSecret(parseEnv({ NODE_ENV: 'test', VERIFLOW_LINK_SECRET: 'configured' })), 'configured');
  tt.type(linkSecret(parseEnv({ NODE_ENV: 'development' })), 'string', 'a default outside production');
  tt.throws(
    () => parseEnv({ NODE_ENV: 'production', STRIPE_SECRET_KEY: 'sk_live_x' }),
    InvalidConfigError,
    'production with stripe needs a link secret',
  );
  tt.throws(() => parseEnv({ NODE_ENV: 'production', STRIPE_SECRET_KEY: 'sk_live_x' }), /VERIFLOW_LINK_SECRET/);
  // Production also requires payload encryption keys (wiring/codec.ts).
  const keys = {
    PAYLOAD_ENCRYPTION_KEYS: `v1:${Buffer.alloc(32, 1).toString('base64')}`,
    DATABASE_URL: 'postgres://db/veriflow',
    PUBLIC_BASE_URL: 'https://vf.example',
  };
  tt.doesNotThrow(() =>
    parseEnv({
      NODE_ENV: 'production',
      STRIPE_SECRET_KEY: 'sk_live_x',
      STRIPE_WEBHOOK_SECRET: 'whsec_live',
      VERIFLOW_LINK_SECRET: 'long-random',
      ...keys,
    }),
  );
  tt.doesNotThrow(() => parseEnv({ NODE_ENV: 'production', ...keys }), 'not needed without stripe');
});
