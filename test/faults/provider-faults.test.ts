// Provider faults injected in the sandbox: throttling with Retry-After, server errors and reset
// connections are retried with backoff until the session exists; a permanent 4xx ends the
// verification in `error` with a reason instead of retrying forever.
import t from 'tap';
import { injectFaults, remainingFaults } from '../helpers/sandbox-faults.ts';
import { eventually, startStack } from '../helpers/stack.ts';

const CREATE_INQUIRY = '^/api/v1/inquiries$';

t.test('provider faults', async (t) => {
  const stack = await startStack(t);
  const read = (id: string) => stack.request('GET', `/v1/verifications/${id}`);

  t.test('429 with Retry-After: the retry waits as long as the provider asked', async (t) => {
    await injectFaults(stack, CREATE_INQUIRY, [{ status: 429, retryAfter: 3 }]);
    const started = Date.now();
    const created = await stack.request('POST', '/v1/verifications', { provider: 'persona' });
    const ready = await eventually(
      () => read(created.body.id),
      (r) => r.body.sessionUrl !== null,
      { timeoutMs: 20_000 },
    );
    const waited = Date.now() - started;
    t.match(ready.body.sessionUrl, /persona\/verify/, 'the session exists after the throttled attempt');
    t.ok(waited >= 2900, `second attempt after Retry-After (took ${waited} ms; the policy alone would retry after 1 s)`);
  });

  t.test('500, 503 and a reset connection are retried with backoff to the right final state', async (t) => {
    await injectFaults(stack, CREATE_INQUIRY, [{ status: 500 }, { status: 503 }, { kind: 'reset' }]);
    const created = await stack.request('POST', '/v1/verifications', { provider: 'persona' });
    const ready = await eventually(
      () => read(created.body.id),
      (r) => r.body.sessionUrl !== null,
      { timeoutMs: 30_000 },
    );
    t.match(ready.body, { status: 'created', providerRef: /^inq_/ });
    t.same(await remainingFaults(stack), [], 'every injected fault was consumed (three failed attempts, then success)');
  });

  t.test('a permanent 4xx is not retried: the verification ends in error with a reason', async (t) => {
    await injectFaults(stack, CREATE_INQUIRY, [{ status: 400 }]);
    const created = await stack.request('POST', '/v1/verifications', { provider: 'persona' });
    const failed = await eventually(
      () => read(created.body.id),
      (r) => r.body.status === 'error',
      { timeoutMs: 15_000 },
    );
    t.equal(failed.body.status, 'error');
    t.match(failed.body.result, { decision: 'error', reasons: ['provider_rejected'] });
    t.match(failed.body.history.at(-1), { source: 'api', to: 'error', applied: true });
  });
});
