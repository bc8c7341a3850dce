import type { ProviderAdapter } from '../types.ts';
import { createSmileIdClient, type SmileIdApiConfig, type SmileIdClientOptions } from './client.ts';
import { parseSmileIdWebhook, verifySmileIdCallback } from './webhook.ts';

export type SmileIdConfig = SmileIdApiConfig;

export function createSmileIdAdapter(config: SmileIdConfig, options: SmileIdClientOptions = {}): ProviderAdapter {
  const client = createSmileIdClient(config, options);
  return {
    name: 'smileid',
    capabilities: {
      // The callback signature covers only its timestamp, not the result: read job_status, then apply.
      fetchBeforeApply: true,
      // A signed timestamp authenticates any body: a callback alone never decides anything.
      bodySigned: false,
      polling: true,
      reverification: false,
      // Smile Links expire (we set 24 h, seed 002).
      sessionExpiry: true,
      longLived: false,
    },
    verifyWebhook(webhook, now) {
      verifySmileIdCallback({ rawBody: webhook.rawBody, partnerId: config.partnerId, apiKey: config.apiKey, now });
    },
    parseWebhook: parseSmileIdWebhook,
    createSession: (input) => client.createLink(input),
    fetchState: (providerRef) => client.fetchJobStatus(providerRef),
  };
}
