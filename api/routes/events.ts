// GET /v1/verifications/:id/events — Server-Sent Events: `event: verification` with the
// verification on every change (status, progress, anything GET shows), heartbeat comments,
// closes after a terminal status, resumes from `Last-Event-ID` (the id names the state sent:
// history length and last update).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { VerificationJson } from '../../domain/verification-json.ts';
import { isTerminalStatus } from '../../domain/verification.ts';
import type { AppDeps } from '../deps.ts';
import { notFound, rateLimited } from '../errors.ts';
import { VerificationParams, problemResponses } from '../schemas.ts';
import type { ChangeFeed } from '../services/change-feed.ts';
import { findVerification, loadVerificationBody } from '../services/verification-view.ts';

export const HEARTBEAT_MS = 15_000;

/** Every persisted change bumps `updatedAt` (progress included); history only grows. */
function stateId(body: VerificationJson): string {
  return `${body.history.length}-${Date.parse(body.updatedAt)}`;
}

export const eventRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps; feed: ChangeFeed; heartbeatMs?: number }> = async (
  app,
  { deps, feed, heartbeatMs = HEARTBEAT_MS },
) => {
  const { db } = deps.database;
  const maxPerTenant = deps.env.EVENTS_MAX_STREAMS_PER_TENANT;
  // Open streams would hold the server open forever: end them first when it closes.
  const open = new Set<() => void>();
  app.addHook('preClose', async () => open.forEach((finish) => finish()));
  const openPerTenant = new Map<string, number>();
  const release = (tenantId: string) => {
    const left = (openPerTenant.get(tenantId) ?? 1) - 1;
    if (left > 0) openPerTenant.set(tenantId, left);
    else openPerTenant.delete(tenantId);
  };

  app.get(
    '/v1/verifications/:id/events',
    {
      schema: {
        summary: 'Live updates (Server-Sent Events)',
        description:
          '`text/event-stream`: an `event: verification` message with the verification (as GET returns it) now and on every change (status, progress, …); ' +
          '`: heartbeat` comments every 15 s; the stream ends after a terminal status. The event `id` names the state sent: ' +
          `reconnect with \`Last-Event-ID\` to skip the state you already have. At most ${maxPerTenant} open streams per tenant (429 beyond); ` +
          '503 when live updates are unavailable (retry, or poll GET /v1/verifications/:id).',
        tags: ['verifications'],
        params: VerificationParams,
        produces: ['text/event-stream'],
        response: problemResponses(400, 401, 404, 429, 503),
      },
    },
    async (request, reply) => {
      const tenantId = request.tenant.id;
      const id = request.params.id;
      // Taken before anything is awaited, so concurrent requests cannot all slip under the cap.
      const opened = openPerTenant.get(tenantId) ?? 0;
      if (opened >= maxPerTenant) {
        throw rateLimited({
          code: 'too_many_streams',
          detail: `This tenant already has ${maxPerTenant} live streams open`,
          action:
            'Close a stream you no longer read (or wait for one to end after its terminal status), or follow verifications with outbound webhooks.',
        });
      }
      openPerTenant.set(tenantId, opened + 1);
      let unsubscribe: () => void;
      let onChange = () => {};
      try {
        if (!(await findVerification(db, tenantId, id))) throw notFound({ detail: `Verification ${id} not found` });
        // Subscribed before the response starts: a failure is still a plain 503, with nothing to clean up.
        unsubscribe = await feed.subscribe(id, () => onChange());
      } catch (err) {
        release(tenantId);
        throw err;
      }
      let sentId = typeof request.headers['last-event-id'] === 'string' ? request.headers['last-event-id'] : null;

      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-correlation-id': String(request.id),
      });
      // The client learns the stream is open now, not with the first state or heartbeat.
      raw.flushHeaders();

      let closed = false;
      let sending = Promise.resolve();
      const heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), heartbeatMs);
      const finish = () => {
        if (closed) return;
        closed = true;
        open.delete(finish);
        release(tenantId);
        clearInterval(heartbeat);
        unsubscribe();
        raw.end();
      };
      // Sends run one after another so states go out in the order they were read.
      onChange = () => {
        sending = sending
          .then(async () => {
            if (closed) return;
            const body = await feed.read(async () => {
              const row = await findVerification(db, tenantId, id);
              return row && loadVerificationBody(db, row);
            });
            if (!body) return finish();
            const eventId = stateId(body);
            if (eventId !== sentId) {
              sentId = eventId;
              raw.write(`event: verification\nid: ${eventId}\ndata: ${JSON.stringify(body)}\n\n`);
            }
            if (isTerminalStatus(body.status)) finish();
          })
          .catch((err: unknown) => {
            request.log.warn({ err }, 'live stream update failed');
            finish();
          });
      };
      open.add(finish);
      raw.on('close', finish);
      onChange();
    },
  );
};
