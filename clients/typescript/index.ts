// The veriflow client: openapi-fetch over the types generated from the API's own OpenAPI
// document (schema.ts, `npm run client:generate`). Every path, parameter, body and response is
// typed as the API documents it; `data` on success, the problem+json body as `error` otherwise.
import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './schema.ts';

export type { components, paths } from './schema.ts';

export interface VeriflowClientOptions {
  /** Where the API is reached, e.g. `https://verify.example.com` (no trailing `/v1`). */
  baseUrl: string;
  /** The tenant's API key (`npm run tenants -- create <name>` prints it), sent as a Bearer token. */
  apiKey: string;
  /** A fetch of your own (a proxy, a test adapter); globalThis.fetch otherwise. */
  fetch?: (request: Request) => Promise<Response>;
}

export type VeriflowClient = Client<paths>;

export function createVeriflowClient({ baseUrl, apiKey, fetch }: VeriflowClientOptions): VeriflowClient {
  return createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${apiKey}` }, ...(fetch ? { fetch } : {}) });
}

type JsonBody<Response> = Response extends { content: { 'application/json': infer Body } } ? Body : never;

/** A verification with its history (GET /v1/verifications/{id}, cancel, review). */
export type Verification = JsonBody<paths['/v1/verifications/{id}']['get']['responses'][200]>;
/** What POST /v1/verifications answers (201 or 202). */
export type CreatedVerification = JsonBody<paths['/v1/verifications']['post']['responses'][202]>;
/** A list item: a verification without its history. */
export type VerificationSummary = JsonBody<paths['/v1/verifications']['get']['responses'][200]>['data'][number];
export type WebhookEndpoint = JsonBody<paths['/v1/webhook-endpoint']['get']['responses'][200]>;
export type WebhookDelivery = JsonBody<paths['/v1/webhook-deliveries']['get']['responses'][200]>['data'][number];
/** Every error answer: RFC 9457 problem details with a stable `code` and, often, an `action`. */
export type Problem = components['schemas']['Problem'];
