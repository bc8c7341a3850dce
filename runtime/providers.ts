import type { Env } from '../config/env.js';
import { createProviderRegistry, type ProviderRegistry, type ProviderRegistryConfig } from '../providers/index.js';

/** Which providers are configured follows from which credentials the environment holds. */
export function providerConfigFromEnv(env: Env): ProviderRegistryConfig {
  const config: ProviderRegistryConfig = {};
  if (env.PERSONA_API_KEY && env.PERSONA_WEBHOOK_SECRET) {
    config.persona = {
      apiUrl: env.PERSONA_API_URL,
      apiKey: env.PERSONA_API_KEY,
      templateId: env.PERSONA_TEMPLATE_ID ?? 'itmpl_default',
      webhookSecret: env.PERSONA_WEBHOOK_SECRET.split(',').map((s) => s.trim()).filter(Boolean),
    };
  }
  return config;
}

export function providersFromEnv(env: Env): ProviderRegistry {
  return createProviderRegistry(providerConfigFromEnv(env));
}
