// GET /v1/verifications/:id/events — Server-Sent Events: `event: verification` with the
// verification on every change, heartbeat comments, closes after a terminal status, resumes
// from `Last-Event-ID` (the id is the number of history entries, which only grows).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { isTerminalStatus } from '../../domain/verification.js';
import type { AppDeps } from '../deps.js';
import { NotFoundError } from '../errors.js';
import { apiKeyAuth } from '../plugins/auth.js';
import { VerificationParams, problemResponses } from '../schemas.js';
import type { ChangeFeed } from '../services/change-feed.js';
import { findVerification, loadVerificationBody } from '../services/verification-view.js';

export const HEARTBEAT_MS = 15_000;

export const eventRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps; feed: ChangeFeed; heartbeatMs?: number }> = async (app, { deps, feed, heartbeatMs = HEARTBEAT_MS }) => {
  const { db } = deps.database;
  await app.register(apiKeyAuth, { db });
  // Open streams would hold the server open forever: end them first when it closes.
  const open = new Set<() => void>();
  app.addHook('preClose', async () => open.forEach((finish) => finish()));

  app.get(
    '/v1/verifications/:id/events',
    {
      schema: {
        summary: 'Live updates (Server-Sent Events)',
        description:
          '`text/event-stream`: an `event: verification` message with the verification (as GET returns it) now and on every change; ' +
          '`: heartbeat` comments every 15 s; the stream ends after a terminal status. The event `id` is the number of history entries: ' +
          'reconnect with `Last-Event-ID` to receive only newer states.',
        tags: ['verifications'],
        params: VerificationParams,
        produces: ['text/event-stream'],
        response: problemResponses(400, 401, 404),
      },
    },
    async (request, reply) => {
      const tenantId = request.tenant.id;
      const id = request.params.id;
      if (!(await findVerification(db, tenantId, id))) throw new NotFoundError({ detail: `Verification ${id} not found` });
      const lastEventId = Number(request.headers['last-event-id'] ?? -1);
      let sentId = Number.isFinite(lastEventId) ? lastEventId : -1;

      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-correlation-id': String(request.id),
      });

      let closed = false;
      let sending = Promise.resolve();
      const heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), heartbeatMs);
      const finish = () => {
        if (closed) return;
        closed = true;
        open.delete(finish);
        clearInterval(heartbeat);
        unsubscribe();
        raw.end();
      };
      // Sends run one after another so states go out in the order they were read.
      const sendLatest = () => {
        sending = sending.then(async () => {
          if (closed) return;
          const row = await findVerification(db, tenantId, id);
          if (!row) return finish();
          const body = await loadVerificationBody(db, row);
          const eventId = body.history.length;
          if (eventId > sentId) {
            sentId = eventId;
            raw.write(`event: verification\nid: ${eventId}\ndata: ${JSON.stringify(body)}\n\n`);
          }
          if (isTerminalStatus(body.status)) finish();
        }).catch((err: unknown) => {
          request.log.warn({ err }, 'live stream update failed');
          finish();
        });
      };
      const unsubscribe = await feed.subscribe(id, sendLatest);
      open.add(finish);
      raw.on('close', finish);
      sendLatest();
    },
  );
};
