// Worker Versioning: every worker build is a version of one worker deployment, named after the task
// queue. Workflows are pinned to the build they started on, so a workflow change needs no patch:
// the old build finishes what it started while new work goes to the deployment's current build.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowService } from '@temporalio/client';
import { IllegalStateError, type WorkerDeploymentVersion } from '@temporalio/common';
import proto from '@temporalio/proto';

const { TaskQueueKind, TaskQueueType } = proto.temporal.api.enums.v1;

/**
 * When a starting worker makes its build the deployment's current version:
 * `always` (dev, tests: the newest start wins), `initial` (only while the deployment has no current
 * version, i.e. the first deploy), `never` (an operator or pipeline promotes it).
 */
export type VersionPromotion = 'always' | 'initial' | 'never';

/** Production promotes only a first deploy: rolling out a new build is an operator's decision. */
export function defaultPromotion(nodeEnv: string): VersionPromotion {
  return nodeEnv === 'production' ? 'initial' : 'always';
}

/** A build id from the workflow code itself: a code change is a new build, the same code the same one. */
export function buildIdOfWorkflowCode(code: string): string {
  return `wf-${createHash('sha256').update(code).digest('hex').slice(0, 16)}`;
}

/** The deployment of a task queue: one per queue, so separate stacks on one server never share routing. */
export function deploymentVersion(taskQueue: string, buildId: string): WorkerDeploymentVersion {
  return { deploymentName: taskQueue, buildId };
}

/** Worker.create options: versioned, and pinned unless a workflow type says otherwise. */
export function versionedWorkerOptions(version: WorkerDeploymentVersion) {
  return { useWorkerVersioning: true, version, defaultVersioningBehavior: 'PINNED' } as const;
}

export interface PromotionTarget {
  namespace: string;
  taskQueue: string;
  version: WorkerDeploymentVersion;
}

export type PromotionResult = 'promoted' | 'already-current' | 'left-to-operator';

/**
 * Makes `version` the deployment's current version as `promotion` allows, once the server has seen
 * the version poll (it refuses before), then waits until the task queue routes to it.
 */
export async function promoteVersion(
  service: WorkflowService,
  target: PromotionTarget,
  promotion: VersionPromotion,
  { timeoutMs = 60_000, retryMs = 250, identity = 'veriflow-worker' } = {},
): Promise<PromotionResult> {
  if (promotion === 'never') return 'left-to-operator';
  const { namespace, version } = target;
  const current = await currentBuildId(service, target);
  if (current === version.buildId) return 'already-current';
  if (promotion === 'initial' && current !== null) return 'left-to-operator';
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await service.setWorkerDeploymentCurrentVersion({
        namespace,
        deploymentName: version.deploymentName,
        buildId: version.buildId,
        identity,
      });
      break;
    } catch (err) {
      // Until the worker's first poll reaches the server, the version does not exist yet. A closed
      // connection (the worker was told to stop while starting) will not heal: give up at once.
      if (err instanceof IllegalStateError || Date.now() >= deadline) throw err;
      await sleep(retryMs);
    }
  }
  while ((await currentBuildId(service, target)) !== version.buildId) {
    if (Date.now() >= deadline) throw new Error(`task queue ${target.taskQueue} still routes to another build than ${version.buildId}`);
    await sleep(retryMs);
  }
  return 'promoted';
}

/** The build the task queue routes new workflows to, or null when its deployment has no current version. */
async function currentBuildId(service: WorkflowService, { namespace, taskQueue }: PromotionTarget): Promise<string | null> {
  const described = await service.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return described.versioningInfo?.currentDeploymentVersion?.buildId || null;
}
