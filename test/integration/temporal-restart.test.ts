// The Temporal server stops mid-flow and comes back on the same SQLite file and address.
// Webhooks sent during the outage are still answered 200 (stored), and once Temporal is back
// the sweeper delivers every one of them exactly once; the workflows themselves survive.
import { defaultPayloadConverter } from '@temporalio/common';
import { inArray } from 'drizzle-orm';
import t from 'tap';
import { verificationHistory, verifications, webhookEvents } from '../../db/schema/index.ts';
import type { ProviderEvent } from '../../domain/verification.ts';
import { getPayloadCodec } from '../../wiring/codec.ts';
import { parseEnv } from '../../config/env.ts';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.ts';
import { verificationWorkflowId } from '../../workflows/messages.ts';
import { inBatches, personaEventBody, postPersonaWebhook } from '../helpers/persona-webhooks.ts';
import { startRestartableTemporal } from '../helpers/restartable-temporal.ts';
import { eventually, startStack } from '../helpers/stack.ts';

const VERIFICATIONS = 4;

t.test('Temporal stopped and restarted mid-flow: stored webhooks delivered exactly once by the sweeper', async (t) => {
  const started = Date.now();
  const temporal = await startRestartableTemporal(t);
  const stack = await startStack(t, {
    temporal,
    startSweeper: true,
    env: { SWEEPER_INTERVAL: '500ms' },
    sandboxWebhookTarget: `http://127.0.0.1:${await pickFreePort()}/lost`,
  });

  const decisions = ['approved', 'declined', 'approved', 'needs_review'];
  const created = await inBatches(
    Array.from({ length: VERIFICATIONS }, (_, i) => i),
    VERIFICATIONS,
    async (i) => {
      const response = await stack.request('POST', '/v1/verifications', { provider: 'persona' }, { prefer: 'wait=15' });
      if (response.status !== 201) throw new Error(`create answered ${response.status}`);
      return {
        id: response.body.id as string,
        inquiryId: new URL(response.body.sessionUrl).searchParams.get('inquiry-id')!,
        decision: decisions[i]!,
      };
    },
  );
  const ids = created.map((v) => v.id);
  const runIdsBefore = await Promise.all(
    ids.map(async (id) => (await stack.temporal.client.workflow.getHandle(verificationWorkflowId(id)).describe()).runId),
  );

  await temporal.stopServer();
  const outageStarted = Date.now();

  // Persona decides; its own webhooks are lost, ours (completed + decision) arrive while Temporal is down.
  const sent: { verificationId: string; eventId: string }[] = [];
  const responses = await inBatches(created, VERIFICATIONS, async (v) => {
    const decided = await fetch(`${stack.sandboxUrl}/persona/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ 'inquiry-id': v.inquiryId, decision: v.decision }).toString(),
    });
    await decided.text();
    const base = Date.now();
    const out = [];
    for (const [i, [name, status]] of (
      [
        ['inquiry.completed', 'completed'],
        [v.decision === 'needs_review' ? 'inquiry.marked-for-review' : `inquiry.${v.decision}`, v.decision],
      ] as const
    ).entries()) {
      const event = personaEventBody({ name, createdAt: new Date(base + i), inquiryId: v.inquiryId, referenceId: v.id, status });
      sent.push({ verificationId: v.id, eventId: event.eventId });
      out.push(await postPersonaWebhook(stack.apiUrl, event.body));
    }
    return out;
  });
  const flat = responses.flat();
  t.ok(
    flat.every((r) => r.status === 200 && r.body.duplicate === false),
    'every webhook answered 200 while Temporal is down',
  );

  // Creating a verification needs Temporal: 503, and nothing half-created.
  const rowsBefore = (await stack.directDb.select({ id: verifications.id }).from(verifications)).length;
  const refused = await stack.request('POST', '/v1/verifications', { provider: 'persona' });
  t.equal(refused.status, 503);
  t.match(refused.body, { code: 'temporal_unavailable' });
  t.equal(
    (await stack.directDb.select({ id: verifications.id }).from(verifications)).length,
    rowsBefore,
    'no verification row left behind',
  );

  // Stored, and not deliverable: the intake's own signal and the sweeper's attempts fail.
  const eventIds = sent.map((s) => s.eventId);
  const stuck = await eventually(
    () => stack.directDb.select().from(webhookEvents).where(inArray(webhookEvents.providerEventId, eventIds)),
    (rows) => rows.length === sent.length && rows.every((r) => r.errorMessage !== null),
    { timeoutMs: 20_000, intervalMs: 250 },
  );
  t.equal(stuck.length, sent.length, 'every event stored');
  t.ok(
    stuck.every((r) => r.outcome === 'received' && r.deliveredAt === null),
    'none delivered while Temporal is down',
  );
  const outageMs = Date.now() - outageStarted;

  await temporal.startServer();
  const restartedAt = Date.now();
  const rows = await eventually(
    () => stack.directDb.select().from(webhookEvents).where(inArray(webhookEvents.providerEventId, eventIds)),
    (rs) => rs.every((r) => r.outcome === 'applied' || r.outcome === 'stale'),
    { timeoutMs: 40_000, intervalMs: 250 },
  );
  const recoveredMs = Date.now() - restartedAt;
  t.ok(
    rows.every((r) => r.outcome === 'applied' || r.outcome === 'stale'),
    `every event has a verdict: ${rows.map((r) => r.outcome).join(',')}`,
  );
  t.ok(
    rows.every((r) => r.deliveredAt !== null),
    'every event marked delivered',
  );

  const final = await eventually(
    () => stack.directDb.select().from(verifications).where(inArray(verifications.id, ids)),
    (rs) => rs.every((r) => r.status === created.find((v) => v.id === r.id)!.decision),
  );
  t.same(final.map((r) => r.status).sort(), [...decisions].sort(), 'each verification has its decision');

  // Exactly once where it matters: each event recorded once. Signals are at least once: a signal
  // the server accepted just as it came back can time out on our side and be sent again (the
  // workflow drops the repeat), so a second signal is counted, not failed.
  const history = await stack.directDb.select().from(verificationHistory).where(inArray(verificationHistory.verificationId, ids));
  let signals = 0;
  let signalledTwice = 0;
  let recordedTwice = 0;
  let lost = 0;
  for (const [i, id] of ids.entries()) {
    const handle = stack.temporal.client.workflow.getHandle(verificationWorkflowId(id));
    t.equal((await handle.describe()).runId, runIdsBefore[i], 'the workflow run survived the restart');
    const wfHistory = await handle.fetchHistory();
    const inputs = (wfHistory.events ?? []).flatMap((e) =>
      e.workflowExecutionSignaledEventAttributes ? [e.workflowExecutionSignaledEventAttributes.input!.payloads![0]!] : [],
    );
    // Payloads are encrypted (wiring/codec.ts): decode, then read the JSON.
    const decoded = await getPayloadCodec(parseEnv()).decode(inputs);
    const signalled = decoded.map((p) => defaultPayloadConverter.fromPayload<ProviderEvent>(p).providerEventId);
    signals += signalled.length;
    signalledTwice += signalled.length - new Set(signalled).size;
    const mine = history.filter((h) => h.verificationId === id && h.source === 'webhook').map((h) => h.eventId);
    recordedTwice += mine.length - new Set(mine).size;
    lost += sent.filter((s) => s.verificationId === id && !mine.includes(s.eventId)).length;
  }
  t.equal(signals - signalledTwice, sent.length, 'every stored event signalled');
  t.equal(recordedTwice, 0, 'no event recorded twice');
  t.equal(lost, 0, 'no event lost');
  t.comment(
    `sentDuringOutage=${sent.length} answered200=${flat.filter((r) => r.status === 200).length} signals=${signals} signalledTwice=${signalledTwice} applied=${rows.filter((r) => r.outcome === 'applied').length} stale=${rows.filter((r) => r.outcome === 'stale').length} recordedTwice=${recordedTwice} lost=${lost} outageMs=${outageMs} recoveredAfterRestartMs=${recoveredMs} ms=${Date.now() - started}`,
  );
});
