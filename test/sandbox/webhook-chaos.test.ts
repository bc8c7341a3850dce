// The sandbox's webhook chaos, end to end: duplicated, shuffled and dropped webhooks still end in
// the right state — the duplicates deduped, the shuffle ordered by the workflow, the drop
// recovered by fallback polling.
import t from 'tap';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';

async function setChaos(stack: Stack, mode: string, delayMs = 300): Promise<void> {
  const res = await fetch(`${stack.sandboxUrl}/_chaos`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mode, delayMs }),
  });
  if (res.status !== 200) throw new Error(`chaos answered ${res.status}`);
  await res.text();
}

async function approveThroughSandbox(stack: Stack): Promise<string> {
  const created = await stack.request('POST', '/v1/verifications', { provider: 'persona' }, { prefer: 'wait=15' });
  const inquiryId = new URL(created.body.sessionUrl).searchParams.get('inquiry-id')!;
  const res = await fetch(`${stack.sandboxUrl}/persona/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ 'inquiry-id': inquiryId, decision: 'approved' }),
  });
  await res.text();
  return created.body.id;
}

t.test('webhook chaos', async (t) => {
  const stack = await startStack(t, { env: { VERIFY_FALLBACK_POLL_AFTER: '2s', VERIFY_POLL_INTERVAL: '1s' } });
  const read = (id: string) => stack.request('GET', `/v1/verifications/${id}`);
  const webhookEntries = (body: { history: { source: string }[] }) => body.history.filter((h) => h.source === 'webhook').length;

  t.test('duplicate: every webhook arrives twice, each is applied once', async (t) => {
    await setChaos(stack, 'duplicate');
    const id = await approveThroughSandbox(stack);
    const done = await eventually(
      () => read(id),
      (r) => r.body.status === 'approved' && webhookEntries(r.body) === 2,
    );
    t.equal(done.body.status, 'approved');
    t.equal(webhookEntries(done.body), 2, 'two distinct events in history, not four');
    const chaos = (await (await fetch(`${stack.sandboxUrl}/_chaos`)).json()) as { counts: Record<string, number> };
    t.ok(chaos.counts.duplicate! >= 2, 'the sandbox duplicated them');
  });

  t.test('shuffle: delivered in random order, decided right', async (t) => {
    await setChaos(stack, 'shuffle', 500);
    const id = await approveThroughSandbox(stack);
    const done = await eventually(
      () => read(id),
      (r) => r.body.status === 'approved' && webhookEntries(r.body) === 2,
    );
    t.equal(done.body.status, 'approved');
  });

  t.test('drop: no webhook arrives, fallback polling recovers the decision', async (t) => {
    await setChaos(stack, 'drop');
    const id = await approveThroughSandbox(stack);
    const done = await eventually(
      () => read(id),
      (r) => r.body.status === 'approved',
      { timeoutMs: 20_000 },
    );
    t.equal(done.body.status, 'approved');
    t.equal(webhookEntries(done.body), 0, 'no webhook ever arrived');
    t.match(done.body.history.at(-1), { source: 'poll', to: 'approved', applied: true });
  });

  t.test('the home page shows the control', async (t) => {
    await setChaos(stack, 'off');
    const html = await (await fetch(stack.sandboxUrl)).text();
    t.match(html, /data-testid="chaos-mode">off</);
    t.match(html, /data-testid="chaos-shuffle"/);
  });
});
