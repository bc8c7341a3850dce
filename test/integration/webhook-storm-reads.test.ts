// A storm of 100 distinct Persona webhooks for one verification: fetch-before-apply reads the
// provider once per inbox batch. Webhooks that arrive together share a batch and a read; here
// each arrives only once the one before it is applied, the worst case: one batch, one read per
// webhook. The per-provider read budget (PROVIDER_READS_PER_SECOND, PROVIDER_READS_BURST) bounds
// what the storm costs; the webhooks the budget leaves unread are applied as signed, so none is
// lost and the decision still lands.
import { eq } from 'drizzle-orm';
import pino from 'pino';
import t from 'tap';
import { webhookEvents } from '../../db/schema/index.ts';
import type { ProviderRegistry } from '../../providers/index.ts';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.ts';
import { decidePersonaInquiry, personaEventBody, postPersonaWebhook } from '../helpers/persona-webhooks.ts';
import { eventually, startStack } from '../helpers/stack.ts';

const WEBHOOKS = 100;
const READS_PER_SECOND = 0.2;
const BURST = 3;

/** The providers, counting every read of the provider's state (one provider API call each). */
function countingReads(base: ProviderRegistry, reads: { count: number }): ProviderRegistry {
  return {
    ...base,
    get(name) {
      const adapter = base.get(name);
      return {
        ...adapter,
        fetchState(providerRef) {
          reads.count += 1;
          return adapter.fetchState(providerRef);
        },
      };
    },
  };
}

t.test('a storm of 100 webhooks for one verification costs a bounded number of provider reads', async (t) => {
  // The sandbox's own webhooks are lost: only the test's 100 arrive. No timer reads during the test.
  // The workflow's log: a read refused by the budget reaches it as such, not as a provider failure.
  const logged: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line).msg) });
  const stack = await startStack(t, {
    worker: false,
    logger,
    env: {
      VERIFY_FALLBACK_POLL_AFTER: '1h',
      VERIFY_POLL_INTERVAL: '1h',
      PROVIDER_READS_PER_SECOND: String(READS_PER_SECOND),
      PROVIDER_READS_BURST: String(BURST),
    },
    sandboxWebhookTarget: `http://127.0.0.1:${await pickFreePort()}/lost`,
  });
  const reads = { count: 0 };
  await stack.startWorker({ providers: countingReads(stack.providers, reads) });
  const created = await stack.request('POST', '/v1/verifications', { provider: 'persona' }, { prefer: 'wait=15' });
  t.equal(created.status, 201);
  const id: string = created.body.id;
  const inquiryId = new URL(created.body.sessionUrl).searchParams.get('inquiry-id')!;

  // Persona has decided; the storm is 99 `completed` events and, newest on Persona's clock, the approval.
  t.equal(await decidePersonaInquiry(stack.sandboxUrl, inquiryId, 'approved'), 200);
  const readsBefore = reads.count;
  const base = Date.now() - WEBHOOKS;
  const storm = Array.from({ length: WEBHOOKS }, (_, i) => {
    const last = i === WEBHOOKS - 1;
    return personaEventBody({
      name: last ? 'inquiry.approved' : 'inquiry.completed',
      createdAt: new Date(base + i),
      inquiryId,
      referenceId: id,
      status: last ? 'approved' : 'completed',
    });
  });

  const rows = () => stack.directDb.select().from(webhookEvents).where(eq(webhookEvents.verificationId, id));
  const began = Date.now();
  const answers: number[] = [];
  for (const [i, event] of storm.entries()) {
    answers.push((await postPersonaWebhook(stack.apiUrl, event.body)).status);
    await eventually(rows, (r) => r.filter((row) => row.processedAt !== null).length === i + 1, { timeoutMs: 30_000, intervalMs: 10 });
  }
  t.same(answers, Array(WEBHOOKS).fill(200), 'every webhook accepted');
  const settled = await rows();
  const elapsedS = (Date.now() - began) / 1000;
  const stormReads = reads.count - readsBefore;

  const outcomes = settled.reduce<Record<string, number>>((n, row) => ({ ...n, [row.outcome]: (n[row.outcome] ?? 0) + 1 }), {});
  t.equal(settled.length, WEBHOOKS, 'all 100 stored and processed: none lost');
  t.notOk(outcomes.received, 'none left unprocessed');
  const done = await stack.request('GET', `/v1/verifications/${id}`);
  t.equal(done.body.status, 'approved', 'the decision landed');
  const history = new Set(done.body.history.map((h: { eventId: string | null }) => h.eventId));
  t.ok(
    storm.every((e) => history.has(e.eventId)),
    'every webhook has its history entry',
  );

  // A token bucket never grants more than its burst plus its rate over the time it ran.
  const bound = BURST + Math.ceil(READS_PER_SECOND * elapsedS);
  t.comment(
    `storm: ${stormReads} provider reads for ${WEBHOOKS} webhooks in ${elapsedS.toFixed(1)} s (bound ${bound}); outcomes ${JSON.stringify(outcomes)}`,
  );
  // One webhook per batch, each newer than the last: every one asked for a read.
  const overBudget = await eventually(
    async () => logged.filter((msg) => msg === 'provider read over budget').length,
    (n) => n === WEBHOOKS - stormReads,
    { timeoutMs: 10_000 },
  );
  t.equal(overBudget, WEBHOOKS - stormReads, 'every read not made was refused by the budget, and the workflow knew it');
  t.notOk(logged.includes('provider state could not be read'), 'no read failed otherwise');
  t.ok(stormReads <= bound, `${stormReads} reads ≤ burst ${BURST} + ${READS_PER_SECOND}/s × ${elapsedS.toFixed(1)} s`);
});
