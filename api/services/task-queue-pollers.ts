import type { Client } from '@temporalio/client';
import type { Env } from '../../config/env.ts';

/** A scrape or a readiness probe must answer even when Temporal does not. */
const DESCRIBE_TIMEOUT_MS = 2000;

/** Workers polling the task queue for workflow tasks, as Temporal lists them (pollers seen in the last few minutes). */
export async function countTaskQueuePollers(
  temporal: Client,
  env: Pick<Env, 'TEMPORAL_NAMESPACE' | 'TEMPORAL_TASK_QUEUE'>,
): Promise<number> {
  const info = await temporal.withDeadline(Date.now() + DESCRIBE_TIMEOUT_MS, () =>
    temporal.workflowService.describeTaskQueue({
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: { name: env.TEMPORAL_TASK_QUEUE },
      taskQueueType: 1,
    }),
  );
  return info.pollers?.length ?? 0;
}
