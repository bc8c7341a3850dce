import { headerValue } from '../headers.ts';
import type { ProviderAdapter } from '../types.ts';
import { createStripeClient, type StripeApiConfig, type StripeClientOptions } from './client.ts';
import { STRIPE_SIGNATURE_HEADER, verifyStripeSignature } from './signature.ts';
import { parseStripeWebhook } from './webhook.ts';

export interface StripeConfig extends StripeApiConfig {
  /** The endpoint's `whsec_…`; several while we roll it: a webhook signed with any of them is accepted. */
  webhookSecret: string | readonly string[];
}

export function createStripeAdapter(config: StripeConfig, options: StripeClientOptions = {}): ProviderAdapter {
  const client = createStripeClient(config, options);
  return {
    name: 'stripe',
    capabilities: {
      // The event is a snapshot from when it was sent; the account read now is the truth, so
      // delivery order (not guaranteed, retries for 3 days) cannot matter.
      fetchBeforeApply: true,
      // HMAC over `${t}.${rawBody}`.
      bodySigned: true,
      polling: true,
      // An active account is legitimately sent back to pending for re-verification (seed 003).
      reverification: true,
      // The account does not expire; only its onboarding links do, and those are refreshed on demand.
      sessionExpiry: false,
      // One workflow per account, open for as long as the account exists.
      longLived: true,
    },
    verifyWebhook(webhook, now) {
      verifyStripeSignature({
        rawBody: webhook.rawBody,
        header: headerValue(webhook.headers, STRIPE_SIGNATURE_HEADER, ','),
        secret: config.webhookSecret,
        now,
      });
    },
    parseWebhook: parseStripeWebhook,
    async createSession(input) {
      // The idempotency key makes a retried activity find the same account, never a second one.
      const account = await client.createAccount({ verificationId: input.verificationId, idempotencyKey: input.idempotencyKey });
      const link = await client.createAccountLink({ accountId: account.accountId, verificationId: input.verificationId });
      return {
        providerRef: account.accountId,
        sessionUrl: link.url,
        expiresAt: null,
        providerStatus: account.state,
        status: account.status,
      };
    },
    async fetchState(providerRef) {
      const account = await client.retrieveAccount(providerRef);
      // An Account carries no "last changed" time.
      return {
        providerRef: account.accountId,
        providerStatus: account.state,
        status: account.status,
        updatedAt: null,
        reasons: account.reasons,
        document: null,
      };
    },
    async refreshSession(providerRef, verificationId) {
      const link = await client.createAccountLink({ accountId: providerRef, verificationId });
      return { sessionUrl: link.url, expiresAt: link.expiresAt };
    },
  };
}
