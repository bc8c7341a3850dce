// WORKER_MAX_CACHED_WORKFLOWS bounds what a worker keeps in memory: with a cache of 2 and 5 open
// verifications, the worker holds at most 2, and every one of the 5 still gets its session and
// its decision (an evicted workflow is replayed from its history when its webhook arrives).
import t from 'tap';
import { eventually, startStack } from '../helpers/stack.ts';

async function decide(sandboxUrl: string, inquiryId: string, decision: string): Promise<void> {
  const response = await fetch(`${sandboxUrl}/persona/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ 'inquiry-id': inquiryId, decision }).toString(),
  });
  await response.text();
  if (!response.ok) throw new Error(`sandbox decision: ${response.status}`);
}

t.test('a worker caching 2 workflows carries 5 open verifications to their decisions', async (t) => {
  const stack = await startStack(t, { env: { WORKER_MAX_CACHED_WORKFLOWS: '2', WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '2' } });
  const worker = stack.worker!;
  t.equal(worker.options.maxCachedWorkflows, 2, 'the configured bound reaches the SDK worker');
  let mostCached = 0;
  const watch = setInterval(() => (mostCached = Math.max(mostCached, worker.getStatus().numCachedWorkflows)), 5);
  t.teardown(() => clearInterval(watch));

  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const res = await stack.request('POST', '/v1/verifications', { provider: 'persona', reference: `cache-${i}` });
    t.equal(res.status, 202);
    ids.push(res.body.id);
  }
  const inquiries = await Promise.all(
    ids.map(async (id) => {
      const { body } = await eventually(
        () => stack.request('GET', `/v1/verifications/${id}`),
        (r) => r.body.providerRef !== null,
        { timeoutMs: 60_000 },
      );
      return body.providerRef as string;
    }),
  );
  // A session is visible once its activity has stored it, a moment before the workflow task that
  // follows puts that workflow back in the cache (CI once read 1 here).
  const cached = await eventually(
    async () => worker.getStatus().numCachedWorkflows,
    (n) => n === 2,
    { what: 'the cache to hold 2 workflows' },
  );
  t.equal(cached, 2, 'the cache is full, the other three were evicted');

  // Decided in creation order: the first ones are the least recently used, long evicted.
  for (const inquiry of inquiries) await decide(stack.sandboxUrl, inquiry, 'approved');
  for (const id of ids) {
    const done = await eventually(
      () => stack.request('GET', `/v1/verifications/${id}`),
      (r) => r.body.status === 'approved',
      { timeoutMs: 60_000 },
    );
    t.equal(done.body.status, 'approved', id);
  }
  t.ok(mostCached <= 2, `never more than 2 cached (most: ${mostCached})`);
});
