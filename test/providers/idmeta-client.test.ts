import t from 'tap';
import { ProviderRequestError } from '../../providers/errors.ts';
import { createIdmetaClient, retryAfterMs } from '../../providers/idmeta/client.ts';
import { json, startApiDouble } from '../helpers/api-double.ts';

type TestContext = Parameters<Parameters<typeof t.test>[0]>[0];
const idmetaDouble = startApiDouble;

const now = new Date('2025-03-14T10:00:00.000Z');
const verificationId = '3f1c2b9e-8d4a-4c1e-9f2b-7a6d5e4c3b21';
const ref = 'a9936497-9f97-4d3d-b46e-f543fa9482a5';

async function clientFor(t: TestContext, options: { pageSize?: number } = {}) {
  const double = await idmetaDouble(t);
  // A trailing /api (seed 001's spelling) is tolerated.
  const client = createIdmetaClient(
    { apiUrl: `${double.apiUrl}/api/`, apiKey: 'idmeta_key_123' },
    { dispatcher: double.dispatcher, now: () => now, timeoutMs: 2000, ...options },
  );
  return { double, client };
}

t.test('listTemplates follows the pagination and reads plans as ordered steps', async (t) => {
  const { double, client } = await clientFor(t, { pageSize: 2 });
  const pages: Record<string, unknown> = {
    '1': {
      data: [
        {
          id: 306,
          name: 'First Philippine ID',
          plans: [
            { key: 'document', name: 'Document verification' },
            { key: 'selfie', name: 'Selfie' },
            { key: 'database_check', name: 'Database check' },
          ],
          is_active: true,
          webhook_secret: 'must-not-be-kept',
        },
        { id: 170, name: 'PH NBI', plans: '[{"key":"philippines/nbiclearance","name":"NBI"}]', is_active: 1 },
      ],
      meta: { current_page: 1, last_page: 2, total: 3 },
    },
    '2': {
      data: [{ id: '999', name: 'Old', plans: ['document', 'BAD KEY'], is_active: false }, { name: 'no id' }],
      meta: { current_page: 2, last_page: 2, total: 3 },
    },
  };
  double.reply((res, request) =>
    json(200, pages[new URL(request.url, 'http://x').searchParams.get('page') ?? ''] ?? { data: [] })(res, request),
  );
  const progress: unknown[] = [];
  const templates = await client.listTemplates({ onPage: (p) => progress.push(p) });
  t.same(
    double.requests.map((r) => r.url),
    ['/api/v1/templates?page=1&per_page=2', '/api/v1/templates?page=2&per_page=2'],
  );
  t.equal(double.requests[0]?.headers.authorization, 'Bearer idmeta_key_123');
  t.same(templates, [
    {
      externalId: '306',
      name: 'First Philippine ID',
      steps: [
        { key: 'document', name: 'Document verification' },
        { key: 'selfie', name: 'Selfie' },
        { key: 'database_check', name: 'Database check' },
      ],
      active: true,
      metadata: { position: 0 },
    },
    {
      externalId: '170',
      name: 'PH NBI',
      steps: [{ key: 'philippines/nbiclearance', name: 'NBI' }],
      active: true,
      metadata: { position: 1 },
    },
    { externalId: '999', name: 'Old', steps: [{ key: 'document', name: 'Document' }], active: false, metadata: { position: 2 } },
  ]);
  t.notMatch(JSON.stringify(templates), /must-not-be-kept/, 'a template webhook secret is never kept');
  t.same(progress, [
    { page: 1, pages: 2, fetched: 2, total: 3 },
    { page: 2, pages: 2, fetched: 3, total: 3 },
  ]);
});

t.test('createVerification: template_id and our id in metadata, Idempotency-Key; status 99 is created', async (t) => {
  const { double, client } = await clientFor(t);
  double.reply(
    json(200, {
      message: 'Verification created successfully',
      verification: { id: ref, template_id: 306, status: 99, verification_url: 'http://sandbox/idmeta/verify/x' },
    }),
  );
  const session = await client.createVerification({ verificationId, templateId: '306', idempotencyKey: 'veriflow-session-1' });
  t.same(session, {
    providerRef: ref,
    sessionUrl: 'http://sandbox/idmeta/verify/x',
    expiresAt: null,
    providerStatus: 'EMPTY',
    status: 'created',
  });
  const [request] = double.requests;
  t.equal(request?.url, '/api/v1/verification/create-verification');
  t.equal(request?.headers['idempotency-key'], 'veriflow-session-1');
  t.same(JSON.parse(request?.body ?? ''), { template_id: '306', metadata: { veriflow_verification_id: verificationId } });
  await t.rejects(
    client.createVerification({ verificationId, templateId: null, idempotencyKey: 'k' }),
    { name: 'ProviderRequestError', details: { retryable: false } },
    'no template: rejected before any call',
  );
});

t.test('runStep posts to the plan path with the verification id; ID checks carry the number and person', async (t) => {
  const { double, client } = await clientFor(t);
  double.reply(json(200, { status: true, message: 'OK', request_status: 1, verification_status: 3 }));
  await client.runStep({
    providerRef: ref,
    templateId: '306',
    step: { key: 'document', name: 'Document' },
    stepIndex: 0,
    idempotencyKey: 'veriflow-v-step-0',
    applicant: { firstName: 'Juan', idNumber: 'X' },
  });
  await client.runStep({
    providerRef: ref,
    templateId: '170',
    step: { key: 'philippines/nbiclearance', name: 'NBI' },
    stepIndex: 0,
    idempotencyKey: 'veriflow-v-step-0b',
    applicant: { firstName: 'Juan', lastName: 'Dela Cruz', dateOfBirth: '1990-01-01', idNumber: 'NBI-123456789' },
  });
  t.equal(double.requests[0]?.url, '/api/v1/verification/document');
  t.same(
    JSON.parse(double.requests[0]?.body ?? ''),
    { template_id: '306', verification_id: ref },
    'a document step sends no personal data',
  );
  t.equal(double.requests[0]?.headers['idempotency-key'], 'veriflow-v-step-0');
  t.equal(double.requests[1]?.url, '/api/v1/verification/philippines/nbiclearance');
  t.same(JSON.parse(double.requests[1]?.body ?? ''), {
    template_id: '170',
    verification_id: ref,
    clearanceNo: 'NBI-123456789',
    firstName: 'Juan',
    lastName: 'Dela Cruz',
    dateOfBirth: '1990-01-01',
  });
});

t.test('runStep: request status 0 (pending) is retryable, 2 (failed) is not; bad keys never reach the network', async (t) => {
  const { double, client } = await clientFor(t);
  const step = { providerRef: ref, templateId: '306', step: { key: 'selfie', name: 'Selfie' }, stepIndex: 1, idempotencyKey: 'k' };
  double.reply(json(200, { status: true, request_status: 0 }));
  await t.rejects(client.runStep(step), { name: 'ProviderRequestError', message: /still pending/, details: { retryable: true } });
  double.reply(json(200, { status: false, message: 'No face detected in the image.', apiRequest: { api_request_status: 'FAILED' } }));
  await t.rejects(client.runStep(step), { message: /No face detected/, details: { retryable: false } });
  const before = double.requests.length;
  await t.rejects(client.runStep({ ...step, step: { key: '../admin', name: 'x' } }), {
    name: 'ProviderRequestError',
    details: { retryable: false },
  });
  t.equal(double.requests.length, before, 'no request for a key that is not a plan path');
});

t.test('HTTP failures: 5xx/408/429 and connection errors retry (with Retry-After); other 4xx do not', async (t) => {
  const { double, client } = await clientFor(t);
  const step = { providerRef: ref, templateId: '306', step: { key: 'selfie', name: 'Selfie' }, stepIndex: 1, idempotencyKey: 'k' };
  const cases: [number, Record<string, string>, boolean, number | null][] = [
    [503, { 'retry-after': '7' }, true, 7000],
    [429, { 'retry-after': 'Fri, 14 Mar 2025 10:00:30 GMT' }, true, 30_000],
    [408, {}, true, null],
    [500, {}, true, null],
    [404, {}, false, null],
    [422, {}, false, null],
    [401, {}, false, null],
  ];
  for (const [status, headers, retryable, retryAfter] of cases) {
    double.reply(json(status, { message: `boom ${status}` }, headers));
    const error = await client.runStep(step).then(
      () => null,
      (e: unknown) => e,
    );
    t.type(error, ProviderRequestError, `${status}`);
    t.match(
      error,
      {
        message: new RegExp(`answered ${status}: boom ${status}`),
        details: { provider: 'idmeta', status, retryable, retryAfterMs: retryAfter },
      },
      `${status}`,
    );
  }
  const closed = createIdmetaClient({ apiUrl: 'http://127.0.0.1:9', apiKey: 'k' }, { timeoutMs: 500 });
  await t.rejects(
    closed.fetchVerification(ref),
    { name: 'ProviderRequestError', details: { status: null, retryable: true } },
    'connection refused retries',
  );
  t.equal(retryAfterMs({ 'retry-after': 'soon' }, now), null);
});

t.test('finalize returns the decision: REVIEW_NEEDED, document data from an ID check', async (t) => {
  const { double, client } = await clientFor(t);
  double.reply(
    json(200, {
      message: 'Verification finalized successfully',
      verification: {
        id: ref,
        template_id: 170,
        status: 2,
        verification_ended_at: '2025-07-28 09:01:47',
        verification_data: JSON.stringify([
          {
            plan: 'philippines/nbiclearance',
            status: 2,
            data: {
              data: { ID_no: 'NBI-1', fname: 'JUAN', lname: 'DELA CRUZ', clearance_expiry: '2023-07-25', is_expired: true },
              found: true,
              valid: false,
            },
          },
        ]),
      },
      missing_plans: [],
      status: 2,
      status_message: 'REVIEW_NEEDED',
      finalized: true,
    }),
  );
  const state = await client.finalize({ providerRef: ref, templateId: '170' });
  t.same(JSON.parse(double.requests[0]?.body ?? ''), { template_id: '170', verification_id: ref });
  t.equal(double.requests[0]?.url, '/api/v1/verification/finalize-verification');
  t.match(state, { providerRef: ref, providerStatus: 'REVIEW_NEEDED', status: 'needs_review', updatedAt: '2025-07-28T09:01:47.000Z' });
  t.match(state.document, {
    type: 'nbi_clearance',
    idClass: 'philippines/nbiclearance',
    number: 'NBI-1',
    firstName: 'JUAN',
    lastName: 'DELA CRUZ',
    expiresAt: '2023-07-25',
    issuingAuthority: 'NBI',
    country: 'PH',
  });
});

t.test('finalize without a top-level status: the components decide, Rejected first', async (t) => {
  const { double, client } = await clientFor(t);
  double.reply(
    json(200, {
      verification: {
        id: ref,
        verification_data: [
          { plan: 'document', status: 3 },
          { plan: 'selfie', status: 2 },
          { plan: 'database_check', status: 1 },
        ],
      },
    }),
  );
  t.match(await client.finalize({ providerRef: ref, templateId: '306' }), { providerStatus: 'REJECTED', status: 'declined' });
});

t.test('fetchVerification maps the status; an unknown one is an error, not a guess', async (t) => {
  const { double, client } = await clientFor(t);
  double.reply(
    json(200, {
      verification: {
        id: ref,
        status: 3,
        verification_data: [
          {
            plan: 'document',
            status: 3,
            data: { extraction: { documentType: 'national_id', documentNumber: 'PSN-1', firstName: 'JUAN', dateOfExpiry: '2031-01-01' } },
          },
        ],
      },
    }),
  );
  const state = await client.fetchVerification(ref);
  t.equal(double.requests[0]?.url, `/api/v1/verification/${ref}`);
  t.match(state, {
    providerStatus: 'VERIFIED',
    status: 'approved',
    document: { type: 'national_id', number: 'PSN-1', firstName: 'JUAN', expiresAt: '2031-01-01' },
  });
  double.reply(json(200, { verification: { id: ref, status: 42 } }));
  await t.rejects(client.fetchVerification(ref), { message: /status 42/, details: { retryable: false } });
  double.reply(json(200, { nothing: true }));
  await t.rejects(client.fetchVerification(ref), { message: /without a verification/, details: { retryable: false } });
});
