// Scaling out and shutting down: two workers on one task queue share the verifications (each
// held to WORKER_MAX_CONCURRENT_ACTIVITIES), and a worker asked to stop lets an in-flight
// provider call finish within WORKER_SHUTDOWN_GRACE_TIME instead of abandoning it.
import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import type { Worker } from '@temporalio/worker';
import t from 'tap';
import type { ProviderRegistry } from '../../providers/index.ts';
import { inBatches } from '../helpers/persona-webhooks.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';

interface CallStats {
  calls: number;
  inFlight: number;
  maxInFlight: number;
  started: number | null;
  finished: number | null;
  aborted: boolean;
}

const newStats = (): CallStats => ({ calls: 0, inFlight: 0, maxInFlight: 0, started: null, finished: null, aborted: false });

/**
 * The stack's providers with a slow createSession that, like an HTTP call given the activity's
 * cancellation signal, stops when the worker cancels the activity.
 */
function slowSessions(base: ProviderRegistry, delayMs: number, stats: CallStats): ProviderRegistry {
  return {
    ...base,
    get(name) {
      const adapter = base.get(name);
      return {
        ...adapter,
        async createSession(input) {
          stats.calls += 1;
          stats.inFlight += 1;
          stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
          stats.started ??= Date.now();
          try {
            await sleep(delayMs, undefined, { signal: Context.current().cancellationSignal });
            const session = await adapter.createSession(input);
            stats.finished = Date.now();
            return session;
          } catch (err) {
            stats.aborted = true;
            throw err;
          } finally {
            stats.inFlight -= 1;
          }
        },
      };
    },
  };
}

async function stopped(worker: Worker): Promise<number> {
  await eventually(
    async () => worker.getState(),
    (state) => state === 'STOPPED',
    { timeoutMs: 30_000, intervalMs: 20 },
  );
  return Date.now();
}

async function sessionActivity(stack: Stack, verificationId: string) {
  const history = await stack.temporal.client.workflow.getHandle(`verification-${verificationId}`).fetchHistory();
  const events = history.events ?? [];
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'createProviderSession');
  const byScheduled = (e: (typeof events)[number]) =>
    [
      e.activityTaskStartedEventAttributes,
      e.activityTaskCompletedEventAttributes,
      e.activityTaskFailedEventAttributes,
      e.activityTaskTimedOutEventAttributes,
    ].some((a) => a?.scheduledEventId != null && String(a.scheduledEventId) === String(scheduled?.eventId));
  const related = events.filter(byScheduled);
  return {
    started: related.find((e) => e.activityTaskStartedEventAttributes)?.activityTaskStartedEventAttributes ?? null,
    completed: related.some((e) => e.activityTaskCompletedEventAttributes),
    failedOrTimedOut: related.some((e) => e.activityTaskFailedEventAttributes || e.activityTaskTimedOutEventAttributes),
  };
}

t.test('worker scaling and graceful shutdown', async (t) => {
  const stack = await startStack(t, { worker: false, env: { WORKER_MAX_CONCURRENT_ACTIVITIES: '2', WORKER_SHUTDOWN_GRACE_TIME: '20s' } });
  const create = async () => {
    const res = await stack.request('POST', '/v1/verifications', { provider: 'persona' });
    t.equal(res.status, 202);
    return res.body.id as string;
  };
  const sessionCreated = (id: string) =>
    eventually(
      () => stack.request('GET', `/v1/verifications/${id}`),
      (r) => r.body.providerRef !== null,
      { timeoutMs: 60_000 },
    );

  t.test('two workers on one task queue share the load, each within WORKER_MAX_CONCURRENT_ACTIVITIES', async (t) => {
    const stats = { a: newStats(), b: newStats() };
    const workers = await Promise.all(
      (['a', 'b'] as const).map((name) =>
        stack.startWorker({ identity: `scaling-worker-${name}`, providers: slowSessions(stack.providers, 150, stats[name]) }),
      ),
    );
    const began = Date.now();
    const ids = await inBatches(
      Array.from({ length: 20 }, (_, i) => i),
      10,
      () => create(),
    );
    const done = await Promise.all(ids.map(sessionCreated));
    t.ok(
      done.every((r) => r.body.providerRef?.startsWith('inq_')),
      'all 20 sessions created',
    );
    const elapsed = Date.now() - began;

    const byIdentity: Record<string, number> = {};
    for (const id of ids) {
      const { started } = await sessionActivity(stack, id);
      byIdentity[started?.identity ?? '?'] = (byIdentity[started?.identity ?? '?'] ?? 0) + 1;
    }
    t.comment(
      `createSession calls: worker a ${stats.a.calls}, worker b ${stats.b.calls} (max in flight ${stats.a.maxInFlight} / ${stats.b.maxInFlight}); history identities ${JSON.stringify(byIdentity)}; ${elapsed} ms`,
    );
    t.equal(stats.a.calls + stats.b.calls, 20, 'each session created once');
    t.ok(stats.a.calls > 0 && stats.b.calls > 0, 'both workers ran provider calls');
    t.equal(
      (byIdentity['scaling-worker-a'] ?? 0) + (byIdentity['scaling-worker-b'] ?? 0),
      20,
      'the history names the worker that ran each one',
    );
    t.ok(byIdentity['scaling-worker-a']! > 0 && byIdentity['scaling-worker-b']! > 0, 'Temporal saw both workers run them');
    t.ok(stats.a.maxInFlight <= 2 && stats.b.maxInFlight <= 2, 'WORKER_MAX_CONCURRENT_ACTIVITIES=2 holds per worker');

    for (const worker of workers) worker.shutdown();
    await Promise.all(workers.map(stopped));
  });

  t.test('shutdown drains: an in-flight provider call finishes and its result is recorded (grace 20s)', async (t) => {
    const stats = newStats();
    const worker = await stack.startWorker({ identity: 'draining-worker', providers: slowSessions(stack.providers, 2500, stats) });
    const id = await create();
    await eventually(
      async () => stats.started,
      (s) => s !== null,
      { timeoutMs: 20_000, intervalMs: 20 },
    );
    const shutdownAt = Date.now();
    worker.shutdown();
    const stoppedAt = await stopped(worker);
    t.notOk(stats.aborted, 'the provider call was not cancelled');
    t.ok(stats.finished !== null && stats.finished > shutdownAt, 'it finished after shutdown was requested');
    t.ok(stoppedAt >= stats.finished!, 'the worker stopped only after it finished');
    const activity = await sessionActivity(stack, id);
    t.ok(activity.completed, 'ActivityTaskCompleted is in the history');
    t.notOk(activity.failedOrTimedOut, 'not failed, not timed out');
    t.match(activity.started, { identity: 'draining-worker', attempt: 1 }, 'first attempt, by the worker that drained');
    const row = await stack.request('GET', `/v1/verifications/${id}`);
    t.match(row.body.providerRef, /^inq_/, 'the session the activity created is saved');
    t.comment(
      `shutdown requested ${stats.finished! - shutdownAt} ms before the call finished; worker stopped ${stoppedAt - stats.finished!} ms after`,
    );
  });

  t.test(
    'contrast, grace 0 (the SDK default): the in-flight call is cancelled at once, and a retry on another worker recovers it',
    async (t) => {
      const stats = newStats();
      const worker = await stack.startWorker({
        identity: 'impatient-worker',
        providers: slowSessions(stack.providers, 5000, stats),
        tuning: { shutdownGraceTimeMs: 0 },
      });
      const id = await create();
      await eventually(
        async () => stats.started,
        (s) => s !== null,
        { timeoutMs: 20_000, intervalMs: 20 },
      );
      const shutdownAt = Date.now();
      worker.shutdown();
      const stoppedAt = await stopped(worker);
      t.ok(stats.aborted, 'the provider call was cancelled (WORKER_SHUTDOWN)');
      t.equal(stats.finished, null);
      t.ok(stoppedAt - shutdownAt < 4000, `stopped after ${stoppedAt - shutdownAt} ms, without waiting for the call`);
      await stack.startWorker({ identity: 'rescue-worker' });
      const done = await sessionCreated(id);
      t.match(done.body.providerRef, /^inq_/, 'Temporal retried the activity on the next worker');
      const activity = await sessionActivity(stack, id);
      t.match(activity.started, { identity: 'rescue-worker' });
      t.ok(Number(activity.started?.attempt) >= 2, 'a retry, not the first attempt');
    },
  );
});
