// Live streams (GET /v1/verifications/:id/events) when things go wrong: a LISTEN that failed
// while the database was unreachable is tried again once it is back; a failed subscribe answers
// 503 and leaves no stream, heartbeat or socket behind; a progress-only change (template steps)
// is streamed; a tenant's open streams are capped (429 problem+json).
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import t from 'tap';
import { buildApp } from '../../api/app.ts';
import { createTenant } from '../../api/services/tenants.ts';
import { timersFromEnv } from '../../config/env.ts';
import { noticeVerificationChanged } from '../../db/change-notice.ts';
import { createDatabase } from '../../db/client.ts';
import { verifications } from '../../db/schema/index.ts';
import { TEST_DATABASE_URL } from '../helpers/database.ts';
import { openStream, type OpenStream } from '../helpers/sse.ts';
import { TEST_API_KEY, eventually, startStack } from '../helpers/stack.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';

const STREAM_CAP = 3;
const FAILED_ATTEMPTS = 8;
const auth = { authorization: `Bearer ${TEST_API_KEY}` };

const activeTimeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

t.test('live streams', async (t) => {
  // No worker: nothing but the test changes the verification.
  const stack = await startStack(t, { worker: false, env: { EVENTS_MAX_STREAMS_PER_TENANT: String(STREAM_CAP) } });
  const created = await stack.request('POST', '/v1/verifications', { provider: 'idmeta' });
  t.equal(created.status, 202);
  const id: string = created.body.id;

  await t.test(
    'LISTEN failing while the database is unreachable: 503 with nothing left open, and streams work again once it is back',
    async (t) => {
      // Queries go straight to the database; only the LISTEN connection goes through a proxy the test cuts.
      const pg = new URL(TEST_DATABASE_URL);
      const proxy = await startTcpProxy(t, { host: pg.hostname, port: Number(pg.port || 5432) });
      const listening = await createDatabase({ url: proxy.via(stack.env.DATABASE_URL!) });
      t.teardown(() => listening.close());
      const app = await buildApp({
        env: stack.env,
        database: { ...stack.database, listen: listening.listen },
        temporal: stack.temporal.client,
        providers: stack.providers,
        timers: timersFromEnv(stack.env),
        logger: pino({ level: 'silent' }),
        defaultTemplates: {},
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      t.teardown(() => app.close());
      const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/v1/verifications/${id}/events`;

      proxy.cut();
      const timeoutsBefore = activeTimeouts();
      const failed: OpenStream[] = [];
      for (let i = 0; i < FAILED_ATTEMPTS; i++) failed.push(await openStream(url, auth));
      const ended = await Promise.all(
        failed.map((s) => Promise.race([s.ended.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 2000))])),
      );
      failed.forEach((s) => s.close());
      t.same(
        failed.map((s) => s.status),
        Array(FAILED_ATTEMPTS).fill(503),
        'each stream that cannot LISTEN is answered 503',
      );
      t.match(failed[0]!.contentType, /^application\/problem\+json/);
      t.match(failed[0]!.body, { status: 503, code: 'live_updates_unavailable', action: /.+/ });
      t.same(ended, Array(FAILED_ATTEMPTS).fill(true), 'and the response is ended: no socket held open');
      t.comment(
        `active timers after ${FAILED_ATTEMPTS} failed streams: ${activeTimeouts() - timeoutsBefore} more (database reconnects included)`,
      );

      proxy.restore();
      const restoredAt = Date.now();
      const attempts: number[] = [];
      const working = await eventually(
        async () => {
          const stream = await openStream(url, auth);
          attempts.push(stream.status);
          if (stream.status !== 200) return null;
          return stream;
        },
        (stream) => stream !== null,
        { timeoutMs: 10_000, intervalMs: 200, what: 'a stream that opens after the database is back' },
      ).then((stream) => stream!);
      t.ok(working, `a stream opens after the database is back (attempts: ${attempts.join(', ')})`);
      t.teardown(() => working.close());
      const first = await working.next();
      t.equal(first.data.id, id, 'and delivers the verification');
      // The LISTEN really is active again: a change is pushed, not just the initial state.
      await stack.directDb
        .update(verifications)
        .set({ providerStatus: 'after-restore', updatedAt: new Date() })
        .where(eq(verifications.id, id));
      await noticeVerificationChanged(stack.directDb, id);
      const pushed = await working.next();
      t.equal(pushed.data.providerStatus, 'after-restore', `changes are pushed again (${Date.now() - restoredAt} ms after restore)`);
    },
  );

  await t.test('a progress-only change (a template step) is streamed', async (t) => {
    const stream = await openStream(`${stack.apiUrl}/v1/verifications/${id}/events`, auth);
    t.teardown(() => stream.close());
    const first = await stream.next();
    const progress = { currentStep: 1, totalSteps: 3, percentage: 33, message: 'Step 1 of 3 completed: document' };
    // What activities/steps.ts writes after a step: progress only, no status change, no history entry.
    await stack.directDb.update(verifications).set({ progress, updatedAt: new Date() }).where(eq(verifications.id, id));
    await noticeVerificationChanged(stack.directDb, id);
    const next = await stream.next();
    t.equal(next.data.status, first.data.status, 'the status did not change');
    t.same(next.data.progress, progress, 'the new progress is sent');
    t.not(next.id, first.id, 'under a new event id');

    const resumed = await openStream(`${stack.apiUrl}/v1/verifications/${id}/events`, { ...auth, 'last-event-id': next.id });
    t.teardown(() => resumed.close());
    await stack.directDb
      .update(verifications)
      .set({ progress: { ...progress, currentStep: 2, percentage: 67 }, updatedAt: new Date() })
      .where(eq(verifications.id, id));
    await noticeVerificationChanged(stack.directDb, id);
    const afterResume = await resumed.next();
    t.equal(afterResume.data.progress.currentStep, 2, 'a resumed stream skips the state it had and sends the next one');
  });

  await t.test(
    'open streams are capped per tenant: 429 problem+json over the cap, other tenants unaffected, room again once one closes',
    async (t) => {
      const url = `${stack.apiUrl}/v1/verifications/${id}/events`;
      const open: OpenStream[] = [];
      t.teardown(() => open.forEach((s) => s.close()));
      for (let i = 0; i < STREAM_CAP; i++) open.push(await openStream(url, auth));
      t.same(
        open.map((s) => s.status),
        Array(STREAM_CAP).fill(200),
      );
      const over = await openStream(url, auth);
      open.push(over);
      t.equal(over.status, 429, `stream ${STREAM_CAP + 1} is refused`);
      t.match(over.contentType, /^application\/problem\+json/);
      t.match(over.body, { status: 429, code: 'too_many_streams', detail: new RegExp(`${STREAM_CAP} live streams`), action: /.+/ });

      const other = await createTenant(stack.database.db, 'streams-other');
      const theirs = await stack.request('POST', '/v1/verifications', { provider: 'idmeta' }, { authorization: `Bearer ${other.apiKey}` });
      const otherStream = await openStream(`${stack.apiUrl}/v1/verifications/${theirs.body.id}/events`, {
        authorization: `Bearer ${other.apiKey}`,
      });
      open.push(otherStream);
      t.equal(otherStream.status, 200, 'another tenant has its own cap');

      open[0]!.close();
      const again = await eventually(
        async () => {
          const stream = await openStream(url, auth);
          open.push(stream);
          return stream.status;
        },
        (status) => status === 200,
        { timeoutMs: 5000 },
      );
      t.equal(again, 200, 'a closed stream frees its place');
    },
  );
});
