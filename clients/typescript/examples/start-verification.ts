import { createVeriflowClient } from '@veriflow/client';

const veriflow = createVeriflowClient({
  baseUrl: process.env.VERIFLOW_URL ?? 'http://127.0.0.1:3000',
  apiKey: process.env.VERIFLOW_API_KEY ?? 'vf_dev_key',
});

// Start a verification and wait up to 10 s for the provider's hosted link.
const created = await veriflow.POST('/v1/verifications', {
  body: { provider: 'persona', reference: 'user-42' },
  params: { header: { 'idempotency-key': 'signup-user-42', prefer: 'wait=10' } },
});
if (created.error) throw new Error(`${created.error.code}: ${created.error.detail}`);
console.log(`send the applicant to ${created.data.sessionUrl}`);

// Later: read it back (or subscribe to its events, or receive your webhook).
const { data: verification } = await veriflow.GET('/v1/verifications/{id}', {
  params: { path: { id: created.data.id } },
});
console.log(verification?.status, verification?.result?.decision ?? 'undecided');

// The pending ones, newest first, a page at a time.
const pending = await veriflow.GET('/v1/verifications', { params: { query: { status: 'pending', limit: 50 } } });
console.log(`${pending.data?.data.length ?? 0} pending`);
