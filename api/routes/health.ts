import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'drizzle-orm';
import type { AppDeps } from '../deps.ts';
import { HealthBody } from '../schemas.ts';

type Check = { ok: boolean; detail?: string };

async function check(run: () => Promise<unknown>): Promise<Check> {
  try {
    await run();
    return { ok: true };
  } catch (err) {
    return { ok: false, detail: (err as Error).message.slice(0, 200) };
  }
}

export const healthRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  app.get('/health/live', { schema: { summary: 'The process is up', tags: ['operations'], response: { 200: HealthBody } } }, async () => ({
    status: 'ok' as const,
  }));

  app.get(
    '/health/ready',
    {
      schema: {
        summary: 'Database, Temporal and a worker polling the task queue are all reachable',
        description: 'Each failing part is named in `checks`; `providers` lists the configured providers.',
        tags: ['operations'],
        response: { 200: HealthBody, 503: HealthBody },
      },
    },
    async (_request, reply) => {
      const deadline = () => Date.now() + 2000;
      const [database, temporal, worker] = await Promise.all([
        check(() => deps.database.db.execute(sql`select 1`)),
        check(() => deps.temporal.withDeadline(deadline(), () => deps.temporal.workflowService.getSystemInfo({}))),
        check(async () => {
          const info = await deps.temporal.withDeadline(deadline(), () =>
            deps.temporal.workflowService.describeTaskQueue({
              namespace: deps.env.TEMPORAL_NAMESPACE,
              taskQueue: { name: deps.env.TEMPORAL_TASK_QUEUE },
              taskQueueType: 1,
            }),
          );
          if (!info.pollers?.length) throw new Error(`no worker is polling task queue '${deps.env.TEMPORAL_TASK_QUEUE}'`);
        }),
      ]);
      const checks = { database, temporal, worker };
      const ok = database.ok && temporal.ok && worker.ok;
      return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks, providers: deps.providers.list() });
    },
  );
};
