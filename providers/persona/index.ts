import { headerValue } from '../headers.ts';
import type { ProviderAdapter } from '../types.ts';
import { createPersonaClient, type PersonaApiConfig, type PersonaClientOptions } from './client.ts';
import { PERSONA_SIGNATURE_HEADER, verifyPersonaSignature } from './signature.ts';
import { parsePersonaWebhook } from './webhook.ts';

export interface PersonaConfig extends PersonaApiConfig {
  /** Several while we rotate our secret: a webhook signed with any of them is accepted. */
  webhookSecret: string | readonly string[];
}

export function createPersonaAdapter(config: PersonaConfig, options: PersonaClientOptions = {}): ProviderAdapter {
  const client = createPersonaClient(config, options);
  return {
    name: 'persona',
    capabilities: {
      // Persona's read API is authoritative and delivery order is not guaranteed: read, then apply.
      fetchBeforeApply: true,
      // HMAC over `${t}.${rawBody}`.
      bodySigned: true,
      polling: true,
      reverification: false,
      sessionExpiry: true,
      longLived: false,
    },
    verifyWebhook(webhook, now) {
      verifyPersonaSignature({
        rawBody: webhook.rawBody,
        header: headerValue(webhook.headers, PERSONA_SIGNATURE_HEADER, ' '),
        secret: config.webhookSecret,
        now,
      });
    },
    parseWebhook: parsePersonaWebhook,
    createSession: (input) => client.createInquiry(input),
    fetchState: (providerRef) => client.fetchInquiry(providerRef),
  };
}
