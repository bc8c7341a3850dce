// 150 clients creating verifications with `Prefer: wait` while the provider stalls session
// creation: the waiting requests must not eat the database connections webhook intake needs.
// Webhooks keep being acknowledged (all 200, none 503, ack times reported before and during the
// wait): the waiters wait on change notices instead of querying the database in a loop.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { personaEventBody, postPersonaWebhook } from '../helpers/persona-webhooks.ts';
import { verifications } from '../../db/schema/index.ts';
import { TEST_API_KEY, eventually, startStack } from '../helpers/stack.ts';

const WAITERS = 150;
const WAIT_S = 8;
const WEBHOOKS_PER_S = 20;

interface Ack {
  status: number;
  ms: number;
}

/** Open loop: one webhook every 1000/WEBHOOKS_PER_S ms for `seconds`, each timed from when it was sent. */
async function webhookLoad(apiUrl: string, seconds: number): Promise<Ack[]> {
  const sends: Promise<Ack>[] = [];
  for (let i = 0; i < seconds * WEBHOOKS_PER_S; i++) {
    const { body } = personaEventBody({
      name: 'inquiry.started',
      status: 'pending',
      createdAt: new Date(),
      inquiryId: `inq_${randomUUID()}`,
      referenceId: randomUUID(),
    });
    const began = performance.now();
    // A webhook with no answer at all (the helper gives up after 30 s) counts as status 0, not as a crash of the test.
    sends.push(
      postPersonaWebhook(apiUrl, body).then(
        (r) => ({ status: r.status, ms: performance.now() - began }),
        () => ({ status: 0, ms: performance.now() - began }),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 1000 / WEBHOOKS_PER_S));
  }
  return Promise.all(sends);
}

function figures(acks: Ack[]): string {
  const ms = acks.map((a) => a.ms).sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!.toFixed(1);
  const statuses = [...new Set(acks.map((a) => a.status))].map((s) => `${s}=${acks.filter((a) => a.status === s).length}`).join(' ');
  return `n=${acks.length} ${statuses} p50=${at(0.5)}ms p95=${at(0.95)}ms p99=${at(0.99)}ms max=${ms.at(-1)!.toFixed(1)}ms`;
}

t.test(`${WAITERS} waiting creates do not starve webhook intake`, async (t) => {
  const stack = await startStack(t);

  const before = await webhookLoad(stack.apiUrl, 3);
  t.comment(`webhook acks before: ${figures(before)}`);

  // Every session creation hangs past the clients' wait.
  const faults = await fetch(`${stack.sandboxUrl}/_faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      path: '^/api/v1/inquiries$',
      faults: Array.from({ length: WAITERS }, () => ({ kind: 'delay', ms: (WAIT_S + 10) * 1000 })),
    }),
  });
  t.equal(faults.status, 201);

  const creates = Promise.all(
    Array.from({ length: WAITERS }, () =>
      fetch(`${stack.apiUrl}/v1/verifications`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json', prefer: `wait=${WAIT_S}` },
        body: JSON.stringify({ provider: 'persona' }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { sessionUrl: string | null } })),
    ),
  );
  // Webhooks arrive while the clients wait: once every create has its row and is waiting.
  const waiting = await eventually(
    () => stack.directDb.$count(verifications),
    (n) => n >= WAITERS,
    { timeoutMs: 20_000 },
  );
  t.equal(waiting, WAITERS, 'every create is waiting before the webhooks start');
  const during = await webhookLoad(stack.apiUrl, WAIT_S - 3);
  const created = await creates;
  t.comment(`webhook acks while ${WAITERS} requests wait: ${figures(during)}`);

  // 202 when the stalled provider outlasts the wait; 201 when an activity retry got through in time.
  t.same(
    created.filter((c) => c.status !== 202 && c.status !== 201).map((c) => c.status),
    [],
    'every waiting create is answered 201 or 202',
  );
  t.same([...new Set([...before, ...during].map((a) => a.status))], [200], 'every webhook is acknowledged 200, none 503');
});
