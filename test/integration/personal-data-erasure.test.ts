// Personal data: erasure on request and by retention, proven with canaries. Applicant data and
// metadata in the create body, a government ID in a provider webhook (document fields, stored
// payload, outbound webhook bodies), verify-by-id inputs: all carry a unique marker. After erasure
// the marker is found nowhere: every row of every Postgres table cast to text, every log line,
// every Temporal history (raw bytes and decrypted payloads). A webhook that arrives after the
// erasure does not bring the data back; the status history stays for audit.
import proto from '@temporalio/proto';
import { eq, sql } from 'drizzle-orm';
import t from 'tap';
import { personalDataErasures, verificationDocuments, webhookDeliveries, webhookEvents } from '../../db/schema/index.ts';
import { getPayloadCodec } from '../../wiring/codec.ts';
import { ensureRetentionSchedule, personalDataRetentionScheduleId } from '../../wiring/schedules.ts';
import { capturingLogger, countHits, newCanary, payloadsIn, personaCanaryEvent } from '../helpers/canary.ts';
import { signPersona } from '../helpers/persona-webhooks.ts';
import { TEST_API_KEY, TEST_OPERATOR_TOKEN, eventually, startStack, type Stack } from '../helpers/stack.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';

const canary = newCanary();
const hits = (text: string | Buffer) => countHits(canary.mark, text);

/** Canary hits per table, every row cast to text. */
async function postgresHits(stack: Stack): Promise<Record<string, number>> {
  const tables = (await stack.directDb.execute(
    sql`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`,
  )) as unknown as { table_name: string }[];
  const found: Record<string, number> = {};
  for (const { table_name: table } of tables) {
    const rows = (await stack.directDb.execute(sql`select t::text as row from ${sql.identifier(table)} t`)) as unknown as { row: string }[];
    found[table] = rows.reduce((sum, r) => sum + hits(r.row), 0);
  }
  return found;
}

/** Canary hits in every workflow history the server holds: raw bytes, and payloads decrypted with the worker's keys. */
async function temporalHits(stack: Stack): Promise<{ runs: number; bytes: number; payloads: number; raw: number; decoded: number }> {
  const codec = getPayloadCodec(stack.env);
  const result = { runs: 0, bytes: 0, payloads: 0, raw: 0, decoded: 0 };
  for await (const execution of stack.temporal.client.workflow.list()) {
    const history = await stack.temporal.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    const bytes = Buffer.from(proto.temporal.api.history.v1.History.encode(history).finish());
    result.runs += 1;
    result.bytes += bytes.length;
    result.raw += hits(bytes);
    const payloads = payloadsIn(history).map((f) => f.payload);
    result.payloads += payloads.length;
    for (const payload of await codec.decode(payloads)) result.decoded += hits(payload.data ? Buffer.from(payload.data) : '');
  }
  return result;
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

t.test('personal data erasure: on request, by retention, late webhooks; canaries found nowhere', async (t) => {
  const { logLines, logger } = capturingLogger();
  const stack = await startStack(t, { logger });
  const api = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await stack.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${TEST_API_KEY}`, ...headers },
      ...(body === undefined ? {} : { payload: body as object }),
    });
    return { status: response.statusCode, body: response.body ? response.json() : null };
  };
  const receiver = await startWebhookReceiver(t);
  const put = await api('PUT', '/v1/webhook-endpoint', { url: receiver.url });
  t.equal(put.status, 201);
  receiver.secret = put.body.secret;
  const webhook = async (body: string) =>
    fetch(`${stack.apiUrl}/webhooks/persona`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'persona-signature': signPersona(body) },
      body,
    });
  const applicant = { firstName: canary.first, lastName: canary.last, email: canary.email, country: 'SE' };

  /** A Persona verification with the canary in its applicant, metadata and a government-ID webhook; approved. */
  const decidedPersona = async (reference: string) => {
    const created = await api(
      'POST',
      '/v1/verifications',
      { provider: 'persona', reference, applicant, metadata: { note: `call ${canary.first}` } },
      { prefer: 'wait=15' },
    );
    t.equal(created.status, 201, `${reference}: session created`);
    const id: string = created.body.id;
    const inquiryId = new URL(created.body.sessionUrl).searchParams.get('inquiry-id')!;
    const sent = await webhook(
      personaCanaryEvent(canary, { inquiryId, verificationId: id, status: 'completed', name: 'inquiry.completed', withDocument: true }),
    );
    t.equal(sent.status, 200);
    const stored = await eventually(
      () => stack.directDb.select().from(verificationDocuments).where(eq(verificationDocuments.verificationId, id)),
      (rows) => rows[0]?.number === canary.document,
    );
    t.equal(stored[0]?.number, canary.document, `${reference}: positive control, the document reached Postgres`);
    const reviewed = await api('POST', `/v1/verifications/${id}/review`, { decision: 'approved', reason: 'documents checked' });
    t.equal(reviewed.body.status, 'approved');
    return { id, inquiryId };
  };

  // 1. On request.
  const a = await decidedPersona('erase-on-request');
  const completed = await eventually(
    async () => receiver.delivered().filter((r) => r.body.data.id === a.id && r.body.type === 'verification.completed'),
    (d) => d.length > 0,
  );
  t.ok(hits(JSON.stringify(completed[0]?.body ?? '')) > 0, 'positive control: the receiver got the document');
  const [deliveredBody] = await stack.directDb
    .select({ payload: webhookDeliveries.payload })
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.verificationId, a.id));
  t.ok(hits(JSON.stringify(deliveredBody?.payload)) > 0, 'positive control: outbound webhook bodies carried the document');
  const before = await postgresHits(stack);
  t.ok(
    before.verifications! > 0 && before.verification_documents! > 0 && before.webhook_events! > 0,
    'positive control: the canary is in Postgres',
  );
  t.comment(`before erasure: Postgres hits ${JSON.stringify(before)}`);

  const erased = await api('DELETE', `/v1/verifications/${a.id}/personal-data`);
  t.equal(erased.status, 200);
  t.match(erased.body, { verificationId: a.id, erasedBy: 'api_key', apiKeyPrefix: TEST_API_KEY.slice(0, 16), erasedAt: String });
  const again = await api('DELETE', `/v1/verifications/${a.id}/personal-data`);
  t.equal(again.status, 200, 'idempotent');
  t.same(again.body, erased.body, 'a repeat answers the same erasure record');
  const notFound = await api('DELETE', `/v1/verifications/00000000-0000-4000-8000-000000000000/personal-data`);
  t.equal(notFound.status, 404);

  const view = await api('GET', `/v1/verifications/${a.id}`);
  t.equal(view.body.status, 'approved', 'the verification and its status stay');
  t.equal(view.body.result.document, null, 'document fields erased');
  t.equal(view.body.metadata, null, 'metadata erased');
  t.ok(view.body.history.length >= 3, `status history kept for audit (${view.body.history.length} entries)`);
  const announced = await eventually(
    async () => receiver.delivered().filter((r) => r.body.data.id === a.id && r.body.type === 'verification.personal_data_erased'),
    (d) => d.length > 0,
  );
  t.equal(announced.length, 1, 'verification.personal_data_erased delivered once');
  t.equal(hits(JSON.stringify(announced[0]?.body ?? '')), 0, 'and carries no personal data');

  // 2. A late webhook (a newer provider event with the government ID) after the erasure.
  const late = await webhook(
    personaCanaryEvent(canary, {
      inquiryId: a.inquiryId,
      verificationId: a.id,
      status: 'approved',
      name: 'inquiry.approved',
      withDocument: true,
    }),
  );
  t.equal(late.status, 200, 'a late webhook is still accepted');
  const lateRows = await eventually(
    () =>
      stack.directDb
        .select({ outcome: webhookEvents.outcome, payload: webhookEvents.payload })
        .from(webhookEvents)
        .where(eq(webhookEvents.verificationId, a.id)),
    (rows) => rows.length >= 2 && rows.every((r) => r.outcome !== 'received' && r.outcome !== 'delivered'),
  );
  t.ok(
    lateRows.every((r) => hits(JSON.stringify(r.payload)) === 0),
    'the late webhook was stored without its body',
  );
  const documentsAfterLate = await stack.directDb
    .select()
    .from(verificationDocuments)
    .where(eq(verificationDocuments.verificationId, a.id));
  t.same(documentsAfterLate, [], 'and its document was not written again');

  // 3. By retention: a decided Persona verification and a verify-by-id check, erased by the schedule.
  const b = await decidedPersona('erase-by-retention');
  const synced = await api('POST', '/v1/templates/sync?provider=idmeta', undefined, { authorization: `Bearer ${TEST_OPERATOR_TOKEN}` });
  t.equal(synced.status, 200);
  const byId = await api('POST', '/v1/verifications/verify-by-id', {
    verificationType: 'philippines_nbi_clearance',
    idNumber: `NBI-${canary.mark}`,
    userData: { firstName: canary.first, lastName: canary.last, dateOfBirth: '1990-01-01' },
  });
  t.equal(byId.status, 201);
  t.equal(byId.body.status, 'approved');
  t.ok(hits(JSON.stringify(byId.body)) > 0, 'positive control: the verify-by-id result carries the canary');

  // The sweep is the Temporal server's schedule: with no worker at all when it fires, it runs once one is back.
  stack.worker!.shutdown();
  await eventually(
    async () => stack.worker!.getState(),
    (state) => state === 'STOPPED',
  );
  const retentionMs = 2000;
  t.equal(
    await ensureRetentionSchedule(stack.temporal.client, stack.env.TEMPORAL_TASK_QUEUE, { retentionMs, retryScheduleMs: [1000] }),
    'created',
  );
  const waiting = await eventually(
    async () => {
      const runs = [];
      for await (const run of stack.temporal.client.workflow.list({ query: 'WorkflowType = "personalDataRetention"' })) runs.push(run);
      return runs;
    },
    (runs) => runs.length > 0,
  );
  t.ok(waiting.length > 0, 'the schedule started a sweep while no worker ran');
  t.equal((await stack.directDb.select().from(personalDataErasures)).length, 1, 'nothing erased by retention without a worker');
  await stack.startWorker();
  const swept = await eventually(
    () => stack.directDb.select().from(personalDataErasures),
    (rows) => rows.length === 3,
    { timeoutMs: 60_000 },
  );
  t.same(
    swept.map((r) => [r.verificationId, r.erasedBy]).sort(),
    [
      [a.id, 'api_key'],
      [b.id, 'retention'],
      [byId.body.id, 'retention'],
    ].sort(),
    'the retention schedule erased both, and left the earlier erasure as it was',
  );
  t.equal(
    await ensureRetentionSchedule(stack.temporal.client, stack.env.TEMPORAL_TASK_QUEUE, { retentionMs: null, retryScheduleMs: [1000] }),
    'deleted',
    'unset: the schedule is removed',
  );
  await t.rejects(stack.temporal.client.schedule.getHandle(personalDataRetentionScheduleId(stack.env.TEMPORAL_TASK_QUEUE)).describe());
  await eventually(
    async () => receiver.delivered().filter((r) => r.body.type === 'verification.personal_data_erased').length,
    (n) => n === 3,
  );

  // 4. Where the canary must not be any more.
  const after = await postgresHits(stack);
  const temporal = await temporalHits(stack);
  const logHits = hits(logLines.join('\n'));
  t.comment(`canary ${canary.mark}`);
  t.comment(`Postgres before: ${sum(before)} hits; after: ${JSON.stringify(after)} -> ${sum(after)}`);
  t.comment(
    `Temporal: ${temporal.runs} runs, ${temporal.bytes} history bytes, ${temporal.payloads} payloads -> raw ${temporal.raw}, decrypted ${temporal.decoded}`,
  );
  t.comment(`logs: ${logLines.length} lines -> ${logHits}`);
  t.equal(sum(after), 0, 'no canary in any Postgres table');
  t.equal(temporal.raw, 0, 'no canary in the history bytes');
  t.equal(temporal.decoded, 0, 'no canary in any decrypted history payload (personal data never enters Temporal)');
  t.equal(logHits, 0, 'no canary in any log line');
  const entries = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
  t.ok(
    entries.some((e) => e.msg === 'personal data erased' && e.verificationId === a.id && e.erasedBy === 'api_key'),
    'the erasure is logged, without the data',
  );
});
