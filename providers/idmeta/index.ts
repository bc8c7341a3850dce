import { ProviderRequestError } from '../errors.ts';
import { headerValue } from '../headers.ts';
import type { ProviderAdapter } from '../types.ts';
import { createIdmetaClient, type IdmetaApiConfig, type IdmetaClientOptions } from './client.ts';
import { IDMETA_SIGNATURE_HEADER, verifyIdmetaSignature } from './signature.ts';
import { parseIdmetaWebhook } from './webhook.ts';

export interface IdmetaConfig extends IdmetaApiConfig {
  /** The templates' webhook secret; several while it rotates. */
  webhookSecret: string | readonly string[];
}

/** IDmeta-style template provider: a session is a verification of a template, run step by step. */
export function createIdmetaAdapter(config: IdmetaConfig, options: IdmetaClientOptions = {}): ProviderAdapter {
  const client = createIdmetaClient(config, options);
  return {
    name: 'idmeta',
    capabilities: {
      // The signing scheme is not public and bounds no replay: read the verification, then apply.
      fetchBeforeApply: true,
      // HMAC over the raw body.
      bodySigned: true,
      polling: true,
      reverification: false,
      sessionExpiry: false,
      longLived: false,
    },
    verifyWebhook(webhook) {
      verifyIdmetaSignature({
        rawBody: webhook.rawBody,
        header: headerValue(webhook.headers, IDMETA_SIGNATURE_HEADER),
        secret: config.webhookSecret,
      });
    },
    parseWebhook: parseIdmetaWebhook,
    createSession: (input) => client.createVerification(input),
    fetchState: (providerRef) => client.fetchVerification(providerRef),
    steps: {
      listTemplates: (listOptions) => client.listTemplates(listOptions),
      async listSteps(templateId) {
        if (templateId === null) {
          throw new ProviderRequestError('IDmeta verifications need a template id', {
            provider: 'idmeta',
            status: null,
            retryable: false,
            retryAfterMs: null,
          });
        }
        return (await client.getTemplate(templateId)).steps;
      },
      runStep: (input) => client.runStep(input),
      finalize: (input) => client.finalize(input),
    },
  };
}
