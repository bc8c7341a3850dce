import { commaList, linkSecret, publicBaseUrl, timersFromEnv, type Env } from '../config/env.ts';
import { createProviderRegistry, type ProviderRegistry, type ProviderRegistryConfig } from '../providers/index.ts';
import { STRIPE_REFRESH_LINK_TTL_MS, stripeRefreshUrl, stripeReturnUrl } from '../providers/stripe/refresh-link.ts';

/** Which providers are configured follows from which credentials the environment holds. */
export function providerConfigFromEnv(env: Env): ProviderRegistryConfig {
  const config: ProviderRegistryConfig = {};
  if (env.PERSONA_API_KEY && env.PERSONA_WEBHOOK_SECRET) {
    config.persona = {
      apiUrl: env.PERSONA_API_URL,
      apiKey: env.PERSONA_API_KEY,
      templateId: env.PERSONA_TEMPLATE_ID ?? 'itmpl_default',
      webhookSecret: commaList(env.PERSONA_WEBHOOK_SECRET),
    };
  }
  if (env.STRIPE_SECRET_KEY && env.STRIPE_WEBHOOK_SECRET) {
    const baseUrl = publicBaseUrl(env);
    const secret = linkSecret(env);
    config.stripe = {
      apiUrl: env.STRIPE_API_URL,
      secretKey: env.STRIPE_SECRET_KEY,
      webhookSecret: commaList(env.STRIPE_WEBHOOK_SECRET),
      refreshUrl: (verificationId, accountId) =>
        stripeRefreshUrl(baseUrl, secret, { verificationId, accountId, expiresAt: new Date(Date.now() + STRIPE_REFRESH_LINK_TTL_MS) }),
      returnUrl: (verificationId) => stripeReturnUrl(baseUrl, verificationId),
    };
  }
  if (env.SMILEID_PARTNER_ID && env.SMILEID_API_KEY) {
    config.smileid = {
      apiUrl: env.SMILEID_API_URL,
      partnerId: env.SMILEID_PARTNER_ID,
      apiKey: env.SMILEID_API_KEY,
      callbackUrl: `${publicBaseUrl(env).replace(/\/+$/, '')}/webhooks/smileid`,
      // A link must not outlive its verification (the client caps it at SmileID's 24 h of seed 002).
      linkTtlMs: timersFromEnv(env).sessionTtlMs,
    };
  }
  if (env.IDMETA_API_KEY && env.IDMETA_WEBHOOK_SECRET) {
    config.idmeta = {
      apiUrl: env.IDMETA_API_URL,
      apiKey: env.IDMETA_API_KEY,
      webhookSecret: commaList(env.IDMETA_WEBHOOK_SECRET),
    };
  }
  return config;
}

export function providersFromEnv(env: Env): ProviderRegistry {
  return createProviderRegistry(providerConfigFromEnv(env));
}
