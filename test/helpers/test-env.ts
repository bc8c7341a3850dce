// The credentials and settings every test app shares, whether it runs on the whole stack
// (stack.ts) or alone (app.ts). Kept free of Temporal imports so contract tests load fast.
export const TEST_API_KEY = 'vf_test_key_0001';
/** OPERATOR_TOKEN of every test app (POST /v1/templates/sync); a test may unset it with `OPERATOR_TOKEN: ''`. */
export const TEST_OPERATOR_TOKEN = 'vf_test_operator_token_0001';
export const PERSONA_SECRETS = { apiKey: 'persona_test_api_key', webhookSecret: 'wbhsec_persona_test_secret' };
export const STRIPE_SECRETS = { secretKey: 'sk_test_veriflow_stack', webhookSecret: 'whsec_veriflow_stack_test_secret' };
export const SMILEID_SECRETS = { partnerId: '0421', apiKey: 'smileid_test_api_key' };
export const IDMETA_SECRETS = { apiKey: 'idmeta_test_api_key', webhookSecret: 'idmeta_test_webhook_secret' };
export const SANDBOX_SECRETS = { persona: PERSONA_SECRETS, stripe: STRIPE_SECRETS, smileid: SMILEID_SECRETS, idmeta: IDMETA_SECRETS };

/** Every provider configured against the sandbox at `sandboxUrl`, and the test defaults of the API. */
export function testAppEnv(sandboxUrl: string): Record<string, string> {
  return {
    PERSONA_API_URL: sandboxUrl,
    PERSONA_API_KEY: PERSONA_SECRETS.apiKey,
    PERSONA_WEBHOOK_SECRET: PERSONA_SECRETS.webhookSecret,
    PERSONA_TEMPLATE_ID: 'itmpl_test',
    STRIPE_API_URL: sandboxUrl,
    STRIPE_SECRET_KEY: STRIPE_SECRETS.secretKey,
    STRIPE_WEBHOOK_SECRET: STRIPE_SECRETS.webhookSecret,
    SMILEID_API_URL: sandboxUrl,
    SMILEID_PARTNER_ID: SMILEID_SECRETS.partnerId,
    SMILEID_API_KEY: SMILEID_SECRETS.apiKey,
    IDMETA_API_URL: sandboxUrl,
    IDMETA_API_KEY: IDMETA_SECRETS.apiKey,
    IDMETA_WEBHOOK_SECRET: IDMETA_SECRETS.webhookSecret,
    // Tests poll GET /v1/… tightly; only the rate-limit tests ask for a small limit.
    RATE_LIMIT_MAX: '1000000',
    // Tests read the sandbox as fast as they run; only the read budget's own test asks for a small budget.
    PROVIDER_READS_PER_SECOND: '1000000',
    PROVIDER_READS_BURST: '1000000',
    // Webhook receivers in tests are loopback servers.
    OUTBOUND_ALLOW_LOOPBACK: 'true',
    OPERATOR_TOKEN: TEST_OPERATOR_TOKEN,
  };
}
