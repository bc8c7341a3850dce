// Fault suite: the worker process is SIGKILLed ten times while 100 verifications are created and
// decided. A fresh worker takes over each time. Every verification must end with its decision,
// every webhook be recorded once, and no provider session be created twice (the session call
// carries an idempotency key; the sandbox counts inquiries).
import { inArray } from 'drizzle-orm';
import t from 'tap';
import { verificationHistory, verifications, webhookEvents } from '../../db/schema/index.ts';
import { inBatches } from '../helpers/persona-webhooks.ts';
import { eventually, startStack, workflowBundle } from '../helpers/stack.ts';
import { startWorkerProcess, writeWorkflowBundle, type WorkerProcess } from '../helpers/worker-process.ts';

const VERIFICATIONS = 100;
const KILLS = 10;

t.test(`${KILLS} worker SIGKILLs during ${VERIFICATIONS} verifications: all complete, nothing lost or doubled`, async (t) => {
  const started = Date.now();
  const stack = await startStack(t, { worker: false, startSweeper: true, env: { SWEEPER_INTERVAL: '1s' } });
  const bundlePath = await writeWorkflowBundle(t, (await workflowBundle()).code);
  let worker: WorkerProcess = await startWorkerProcess(t, stack.env, bundlePath);
  const decisionFor = (i: number) => (i % 2 === 0 ? 'approved' : 'declined');

  const created = await inBatches(
    Array.from({ length: VERIFICATIONS }, (_, i) => i),
    10,
    async (i) => {
      const res = await stack.request('POST', '/v1/verifications', { provider: 'persona', reference: `storm-${i}` });
      if (res.status !== 202) throw new Error(`create answered ${res.status}`);
      return { id: res.body.id as string, decision: decisionFor(i) };
    },
  );
  const ids = created.map((v) => v.id);
  const decided = new Set<string>();

  // Decide each inquiry in the sandbox as soon as its session exists, while the kills go on.
  const decideReady = async () => {
    const rows = await stack.directDb
      .select({ id: verifications.id, providerRef: verifications.providerRef })
      .from(verifications)
      .where(inArray(verifications.id, ids));
    const ready = rows.filter((r) => r.providerRef && !decided.has(r.id));
    await inBatches(ready, 10, async (r) => {
      decided.add(r.id);
      const decision = created.find((v) => v.id === r.id)!.decision;
      await fetch(`${stack.sandboxUrl}/persona/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ 'inquiry-id': r.providerRef!, decision }),
      }).then((res) => res.text());
    });
  };

  let kills = 0;
  while (kills < KILLS) {
    await new Promise((r) => setTimeout(r, 700 + Math.random() * 800));
    await decideReady();
    t.equal(await worker.kill(), 'SIGKILL');
    kills += 1;
    worker = await startWorkerProcess(t, stack.env, bundlePath);
  }
  const expected = new Map(created.map((v) => [v.id, v.decision]));
  const finalRows = await eventually(
    async () => {
      await decideReady();
      return stack.directDb.select().from(verifications).where(inArray(verifications.id, ids));
    },
    (rows) => rows.every((r) => r.status === expected.get(r.id)),
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  const wrong = finalRows.filter((r) => r.status !== expected.get(r.id)).length;
  t.equal(wrong, 0, 'every verification ends with its decision');

  const events = await eventually(
    () => stack.directDb.select().from(webhookEvents).where(inArray(webhookEvents.verificationId, ids)),
    (rows) => rows.length === VERIFICATIONS * 2 && rows.every((r) => r.outcome === 'applied' || r.outcome === 'stale'),
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  const history = await stack.directDb.select().from(verificationHistory).where(inArray(verificationHistory.verificationId, ids));
  const webhookEntries = history.filter((h) => h.source === 'webhook');
  const perEvent = new Map<string, number>();
  for (const h of webhookEntries) perEvent.set(h.eventId!, (perEvent.get(h.eventId!) ?? 0) + 1);
  const doubled = [...perEvent.values()].filter((n) => n > 1).length;
  const lost = events.filter((e) => !perEvent.has(e.providerEventId)).length;
  t.equal(lost, 0, 'every stored webhook is in a history');
  t.equal(doubled, 0, 'none recorded twice');
  const sandboxHome = await (await fetch(stack.sandboxUrl)).text();
  const inquiries = new Set(sandboxHome.match(/inq_[A-Za-z0-9]+/g) ?? []).size;
  t.equal(inquiries, VERIFICATIONS, 'one provider session per verification, whatever the kills interrupted');
  t.comment(
    `kills=${kills} verifications=${VERIFICATIONS} webhooks=${events.length} applied=${events.filter((e) => e.outcome === 'applied').length} stale=${events.filter((e) => e.outcome === 'stale').length} lost=${lost} doubled=${doubled} inquiries=${inquiries} ms=${Date.now() - started}`,
  );
});
