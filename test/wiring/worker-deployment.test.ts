// Promotion retries while the server has not yet seen the new version poll. A worker told to stop
// during start-up (an orchestrator's SIGTERM mid-rollout) closes its connection under it: retrying
// "Client already closed" for the whole minute kept that worker from exiting for 60 s.
import type { WorkflowService } from '@temporalio/client';
import { IllegalStateError } from '@temporalio/common';
import t from 'tap';
import { promoteVersion } from '../../wiring/worker-deployment.ts';

const target = { namespace: 'default', taskQueue: 'q', version: { deploymentName: 'q', buildId: 'b2' } };

function service(setCurrent: () => Promise<unknown>): { service: WorkflowService; calls: () => number } {
  let calls = 0;
  const fake = {
    describeTaskQueue: async () => ({ versioningInfo: { currentDeploymentVersion: { buildId: 'b1' } } }),
    setWorkerDeploymentCurrentVersion: () => {
      calls += 1;
      return setCurrent();
    },
  };
  return { service: fake as unknown as WorkflowService, calls: () => calls };
}

t.test('a closed connection ends promotion at once', async (t) => {
  const closed = service(() => Promise.reject(new IllegalStateError('Client already closed')));
  const started = Date.now();
  await t.rejects(promoteVersion(closed.service, target, 'always', { timeoutMs: 10_000, retryMs: 10 }), /Client already closed/);
  t.equal(closed.calls(), 1, 'not retried');
  t.ok(Date.now() - started < 5_000, 'well before the promotion deadline');
});

t.test('an unknown version is retried until the server has seen it poll', async (t) => {
  let attempt = 0;
  const current = { buildId: 'b1' };
  const fake = service(async () => {
    attempt += 1;
    if (attempt < 3) throw Object.assign(new Error('version not found'), { code: 5 });
    current.buildId = 'b2';
    return {};
  });
  fake.service.describeTaskQueue = (async () => ({ versioningInfo: { currentDeploymentVersion: { ...current } } })) as never;
  t.equal(await promoteVersion(fake.service, target, 'always', { timeoutMs: 10_000, retryMs: 10 }), 'promoted');
  t.equal(fake.calls(), 3);
});
