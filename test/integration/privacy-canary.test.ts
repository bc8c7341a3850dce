// Privacy canary: personal data with a unique marker goes in through every door we have (create
// body, provider webhook with a government ID, operator review and cancel reasons, malformed and
// rejected requests), and then we look where it must never be: what the Temporal server stores
// (history bytes, search attributes, memo), every JSON log line of API and worker, and every
// error body. Zero hits. Positive controls prove the canary really went through the system.
import proto from '@temporalio/proto';
import type { Payload } from '@temporalio/common';
import { eq } from 'drizzle-orm';
import t from 'tap';
import { sql } from 'drizzle-orm';
import { verificationDocuments, webhookEvents } from '../../db/schema/index.ts';
import { createIdmetaClient } from '../../providers/idmeta/client.ts';
import { getPayloadCodec } from '../../wiring/codec.ts';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.ts';
import { buildTestApp } from '../helpers/app.ts';
import { capturingLogger, countHits as countCanaryHits, newCanary, payloadsIn, personaCanaryEvent } from '../helpers/canary.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { signPersona } from '../helpers/persona-webhooks.ts';
import { PERSONA_SECRETS, TEST_API_KEY, eventually, startStack } from '../helpers/stack.ts';

const canary = newCanary();
const MARK = canary.mark;
const countHits = (haystack: string | Buffer) => countCanaryHits(MARK, haystack);
const personaEvent = (input: Parameters<typeof personaCanaryEvent>[1]) => personaCanaryEvent(canary, input);

t.test('privacy canary: failed stores and failed provider calls are logged without their data', async (t) => {
  const { logLines, logger } = capturingLogger();
  const db = await createTestDatabase(t);
  const app = await buildTestApp(
    t,
    db,
    { PERSONA_API_KEY: PERSONA_SECRETS.apiKey, PERSONA_WEBHOOK_SECRET: PERSONA_SECRETS.webhookSecret },
    logger,
  );

  // Every insert into webhook_events now fails in Postgres: drizzle's DrizzleQueryError carries
  // each bound value (the whole payload) and Postgres's own error the failing row.
  await db.db.execute(sql`alter table webhook_events add constraint privacy_canary_refuses check (false) not valid`);
  const body = personaEvent({
    inquiryId: 'inq_canary',
    verificationId: '00000000-0000-4000-8000-000000000000',
    status: 'approved',
    name: 'inquiry.approved',
    withDocument: true,
  });
  const stored = await app.inject({
    method: 'POST',
    url: '/webhooks/persona',
    headers: { 'content-type': 'application/json', 'persona-signature': signPersona(body) },
    payload: body,
  });
  t.equal(stored.statusCode, 503, 'the store failed');
  t.equal(countHits(stored.body), 0, 'no canary in the 503 body');
  const storeFailure = logLines
    .map((line) => JSON.parse(line) as { msg?: string; err?: { type?: string; message?: string } })
    .find((e) => e.msg === 'webhook could not be stored');
  t.match(
    storeFailure?.err,
    { type: 'DrizzleQueryError', message: /insert into "webhook_events"/ },
    'positive control: the failed insert is logged, with its query',
  );

  // A provider call carrying an applicant's personal data (an IDmeta ID check) that cannot connect.
  const closedPort = await pickFreePort();
  const idmeta = createIdmetaClient({ apiUrl: `http://127.0.0.1:${closedPort}`, apiKey: 'idmeta_key' });
  const step = { key: 'philippines/prc', name: 'PRC licence check' };
  const applicant = { firstName: canary.first, lastName: canary.last, dateOfBirth: '1990-01-01', idNumber: canary.document };
  const callFailure = await idmeta
    .runStep({ providerRef: '1234', templateId: '306', step, stepIndex: 0, idempotencyKey: 'step-0', applicant })
    .then(
      () => null,
      (err: unknown) => err,
    );
  t.ok(callFailure instanceof Error, 'the provider call failed');
  logger.error({ err: callFailure }, 'provider step failed');

  const leaks = logLines.filter((line) => countHits(line) > 0);
  for (const line of leaks) t.comment(`leak in log: ${line.slice(0, 600)}`);
  t.equal(leaks.length, 0, `no canary in ${logLines.length} log lines`);
});

/** Where the OpenTelemetry workflow interceptor puts its propagated context. */
const TRACE_HEADER = /\.header\.fields\._tracer-data$/;

t.test('privacy canary: no personal data in Temporal, logs or error bodies', async (t) => {
  const { logLines, logger } = capturingLogger();
  const stack = await startStack(t, { logger });

  const errorBodies: { what: string; status: number; body: string }[] = [];
  const call = async (what: string, method: 'GET' | 'POST', url: string, payload?: unknown, headers: Record<string, string> = {}) => {
    const response = await stack.app.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${TEST_API_KEY}`,
        'x-correlation-id': `canary-${what}`,
        ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(payload === undefined ? {} : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
    });
    if (response.statusCode >= 400) errorBodies.push({ what, status: response.statusCode, body: response.body });
    return { status: response.statusCode, body: response.body ? response.json() : null };
  };
  const webhook = async (what: string, body: string, signature = signPersona(body)) => {
    const response = await fetch(`${stack.apiUrl}/webhooks/persona`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'persona-signature': signature },
      body,
    });
    const text = await response.text();
    if (response.status >= 400) errorBodies.push({ what, status: response.status, body: text });
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
  const applicant = { firstName: canary.first, lastName: canary.last, email: canary.email, country: 'SE' };

  // 1. Persona through the sandbox, the applicant in the create body, personal data in metadata too.
  const created = await call(
    'create',
    'POST',
    '/v1/verifications',
    { provider: 'persona', reference: 'crm-1001', applicant, metadata: { note: `call ${canary.first} back` } },
    { prefer: 'wait=15' },
  );
  t.equal(created.status, 201, 'session created');
  const id: string = created.body.id;
  const inquiryId = new URL(created.body.sessionUrl).searchParams.get('inquiry-id')!;

  // 2. A forged-but-signed webhook whose government ID carries the canary document number.
  const forged = await webhook(
    'webhook-document',
    personaEvent({ inquiryId, verificationId: id, status: 'completed', name: 'inquiry.completed', withDocument: true }),
  );
  t.equal(forged.status, 200);
  const stored = await eventually(
    () => stack.directDb.select().from(verificationDocuments).where(eq(verificationDocuments.verificationId, id)),
    (rows) => rows[0]?.number === canary.document,
  );
  t.equal(stored[0]?.number, canary.document, 'positive control: the canary document reached Postgres');
  await eventually(
    () => stack.directDb.select({ outcome: webhookEvents.outcome }).from(webhookEvents).where(eq(webhookEvents.verificationId, id)),
    (rows) => rows.length > 0 && rows.every((r) => r.outcome !== 'received' && r.outcome !== 'delivered'),
  );

  // 3. Operator review with personal data in the free-text reason (an update argument: Temporal history).
  const reviewed = await call('review', 'POST', `/v1/verifications/${id}/review`, {
    decision: 'approved',
    reason: `${canary.first} ${canary.last} confirmed by phone`,
  });
  t.equal(reviewed.status, 200);
  t.equal(reviewed.body.status, 'approved');

  // 4. Errors, each with the canary in what the client sent.
  const badDecision = await call('review-bad-decision', 'POST', `/v1/verifications/${id}/review`, {
    decision: 'maybe',
    reason: `ask ${canary.email}`,
  });
  t.equal(badDecision.status, 400);
  const extraField = await call('review-extra-field', 'POST', `/v1/verifications/${id}/review`, {
    decision: 'approved',
    reason: 'ok',
    note: canary.first,
  });
  t.equal(extraField.status, 400);
  const cancelTerminal = await call('cancel-terminal', 'POST', `/v1/verifications/${id}/cancel`, {
    reason: `${canary.first} asked to stop`,
  });
  t.equal(cancelTerminal.status, 409, 'cancel on a decided verification');
  const badEmail = await call('create-bad-email', 'POST', '/v1/verifications', {
    provider: 'persona',
    applicant: { ...applicant, email: `${canary.first} at example` },
  });
  t.equal(badEmail.status, 400);
  const tooLong = await call('create-too-long', 'POST', '/v1/verifications', {
    provider: 'persona',
    applicant: { ...applicant, lastName: canary.last.repeat(20) },
  });
  t.equal(tooLong.status, 400);
  const unknownField = await call('create-unknown-field', 'POST', '/v1/verifications', {
    provider: 'persona',
    applicant: { ...applicant, passport: canary.document },
  });
  t.equal(unknownField.status, 400);
  const malformed = await call(
    'create-malformed-json',
    'POST',
    '/v1/verifications',
    `{"provider":"persona","applicant":{"firstName": ${canary.first}}}`,
  );
  t.equal(malformed.status, 400, 'JSON.parse quotes the bad text; the problem must not');
  const badSignature = await webhook(
    'webhook-bad-signature',
    personaEvent({ inquiryId, verificationId: id, status: 'approved', name: 'inquiry.approved', withDocument: true }),
    `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}`,
  );
  t.equal(badSignature.status, 401);
  const notJson = `{"data": ${canary.first}}`;
  const malformedWebhook = await webhook('webhook-malformed', notJson);
  t.equal(malformedWebhook.status, 400);
  const unmatched = await webhook(
    'webhook-unmatched',
    personaEvent({
      inquiryId: 'inq_unknown',
      verificationId: '00000000-0000-4000-8000-000000000000',
      status: 'approved',
      name: 'inquiry.approved',
      withDocument: true,
    }),
  );
  t.equal(unmatched.status, 200, 'unknown reference: stored as unmatched');

  // 5. A second verification, canceled with personal data in the reason (workflow state and activity input).
  const second = await call('create-2', 'POST', '/v1/verifications', { provider: 'persona', applicant }, { prefer: 'wait=15' });
  t.equal(second.status, 201);
  const canceled = await call('cancel', 'POST', `/v1/verifications/${second.body.id}/cancel`, {
    reason: `${canary.first} withdrew consent`,
  });
  t.equal(canceled.status, 200);
  t.equal(canceled.body.status, 'canceled');
  // 6. A provider that refuses the session (HTTP 422): the activity failure lands in the history.
  const fault = await fetch(`${stack.sandboxUrl}/_faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ path: '^/api/v1/inquiries$', faults: [{ status: 422 }] }),
  });
  t.equal(fault.status, 201);
  const third = await call('create-3', 'POST', '/v1/verifications', { provider: 'persona', applicant });
  const rejected = await eventually(
    () => call('get-3', 'GET', `/v1/verifications/${third.body.id}`),
    (r) => r.body.status === 'error',
  );
  t.equal(rejected.body.status, 'error', 'the provider refused: verification in error');
  t.equal(errorBodies.length, 9, 'nine error bodies collected');

  // What the Temporal server holds: every run's history as stored (proto bytes), and the
  // visibility record (search attributes, memo).
  const codec = getPayloadCodec(stack.env);
  let historyBytes = 0;
  let historyHits = 0;
  let visibilityHits = 0;
  let decodedHits = 0;
  let payloadCount = 0;
  let encryptedPayloads = 0;
  const unencryptedPaths = new Set<string>();
  const traceHeaders: string[] = [];
  const failures: { message?: string | null; stackTrace?: string | null }[] = [];
  let failureText = '';
  const executions = [];
  for await (const execution of stack.temporal.client.workflow.list()) executions.push(execution);
  t.ok(executions.length >= 3, `${executions.length} workflow runs inspected`);
  for (const execution of executions) {
    visibilityHits += countHits(Buffer.from(proto.temporal.api.workflow.v1.WorkflowExecutionInfo.encode(execution.raw).finish()));
    const described = await stack.temporal.client.workflow.getHandle(execution.workflowId, execution.runId).describe();
    visibilityHits += countHits(
      Buffer.from(proto.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse.encode(described.raw).finish()),
    );
    const history = await stack.temporal.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    const bytes = Buffer.from(proto.temporal.api.history.v1.History.encode(history).finish());
    historyBytes += bytes.length;
    historyHits += countHits(bytes);
    // Positive control: the same payloads, decrypted with the worker's keys.
    // Search attributes must stay readable for the server to index them (checked for the canary above).
    const found = payloadsIn(history);
    const payloads = found.filter((f) => !/\.searchAttributes\.indexedFields\./.test(f.path));
    payloadCount += payloads.length;
    const clear = payloads.filter((f) => Buffer.from(f.payload.metadata?.encoding ?? []).toString() !== 'binary/encrypted');
    encryptedPayloads += payloads.length - clear.length;
    for (const f of clear) unencryptedPaths.add(f.path.replace(/\[\d+\]/g, '[]'));
    for (const f of clear.filter((c) => TRACE_HEADER.test(c.path))) traceHeaders.push(Buffer.from(f.payload.data ?? []).toString('utf8'));
    for (const payload of await codec.decode(payloads.map((f) => f.payload))) {
      decodedHits += countHits(payload.data ? Buffer.from(payload.data).toString('utf8') : '');
    }
    // Failures (activity failures here): message and stack travel encrypted, in encodedAttributes.
    for (const e of history.events ?? []) {
      const failure = e.activityTaskFailedEventAttributes?.failure ?? e.markerRecordedEventAttributes?.failure;
      if (!failure) continue;
      failures.push(failure);
      const [attributes] = await codec.decode([failure.encodedAttributes as Payload]);
      failureText += Buffer.from(attributes!.data!).toString('utf8');
    }
  }
  const logText = logLines.join('\n');
  const logHits = countHits(logText);
  const errorHits = errorBodies.reduce((sum, e) => sum + countHits(e.body), 0);

  t.comment(`canary ${MARK}`);
  t.comment(
    `Temporal: ${executions.length} runs, ${historyBytes} history bytes, ${payloadCount} payloads (${encryptedPayloads} encrypted), ${failures.length} failure(s) -> ${historyHits} hits; search attributes + memo -> ${visibilityHits} hits`,
  );
  t.comment(`decrypted with the worker's keys (positive control) -> ${decodedHits} hits`);
  t.comment(`logs: ${logLines.length} JSON lines -> ${logHits} hits`);
  t.comment(`error bodies: ${errorBodies.length} (${errorBodies.map((e) => `${e.what}:${e.status}`).join(', ')}) -> ${errorHits} hits`);

  t.equal(historyHits, 0, 'no canary in the history bytes the Temporal server stores');
  t.equal(visibilityHits, 0, 'no canary in search attributes or memo');
  // The TypeScript SDK (1.24) keeps one marker payload outside the payload codec: a local
  // activity marker's bookkeeping (type, attempt, timings). No personal data can be there (the
  // canary count above covers it too); everything else, local activity results included, must
  // be ciphertext.
  const sdkMarkerPayload = /\.markerRecordedEventAttributes\.details\.data\.payloads\[\]$/;
  t.same(
    [...unencryptedPaths].filter((path) => !sdkMarkerPayload.test(path) && !TRACE_HEADER.test(path)),
    [],
    'every payload in every history (search attributes, SDK marker payloads and trace headers aside) is encrypted',
  );
  // The OpenTelemetry workflow interceptor propagates trace context in a header the payload
  // codec does not see: it may only ever hold W3C trace context (ids), nothing else.
  t.ok(
    traceHeaders.every((text) => Object.keys(JSON.parse(text) as object).every((key) => key === 'traceparent' || key === 'tracestate')),
    `${traceHeaders.length} trace header(s) in clear text hold only traceparent/tracestate`,
  );
  t.ok(decodedHits > 0, 'positive control: the canary is in those histories, encrypted (review reason, cancel reason)');
  t.ok(failures.length > 0, `${failures.length} activity failure(s) in the histories`);
  t.ok(
    failures.every((f) => f.message === 'Encoded failure' && !f.stackTrace),
    'failure messages and stack traces are not stored in clear text',
  );
  t.match(failureText, /persona request failed with HTTP 422/, 'positive control: the real message is in the encrypted attributes');
  t.equal(logHits, 0, 'no canary in any log line');
  t.equal(errorHits, 0, 'no canary in any error body');
  for (const e of errorBodies.filter((b) => countHits(b.body) > 0)) t.comment(`leak in ${e.what}: ${e.body}`);
  for (const line of logLines.filter((l) => countHits(l) > 0)) t.comment(`leak in log: ${line.slice(0, 400)}`);

  // The logs are still useful: correlation ids everywhere they belong.
  const entries = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
  t.ok(
    entries.some((e) => e.correlationId === 'canary-create' && e.msg === 'incoming request'),
    'API request logs carry the correlation id',
  );
  t.ok(
    entries.some((e) => e.msg === 'provider session created' && e.verificationId === id),
    'activities log with verificationId',
  );
  const workflowLine = entries.find((e) => e.msg === 'verification status changed' && e.verificationId === id);
  t.match(
    workflowLine,
    { workflowId: `verification-${id}`, runId: /.+/, workflowType: 'verification', component: 'temporal' },
    'workflow log carries workflowId and runId',
  );
  t.notOk(
    entries.some((e) => 'body' in e || (typeof e.req === 'object' && e.req !== null && 'body' in e.req)),
    'no request body is logged',
  );
  t.notOk(
    entries.some((e) => typeof (e.req as { url?: string } | undefined)?.url === 'string' && (e.req as { url: string }).url.includes('?')),
    'no query strings in request logs',
  );
});
