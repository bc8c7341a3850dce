// Replay ("recover") re-sends a window of a tenant's deliveries under their original ids, in seq
// order per verification, within a bounded cost; a rotated signing secret keeps signing beside
// the new one for OUTBOUND_SECRET_GRACE, so receivers switch secrets without a rejected delivery.
import t from 'tap';
import { Webhook } from 'standardwebhooks';
import { createTenant } from '../../api/services/tenants.ts';
import { REPLAY_MAX_DELIVERIES } from '../../api/services/webhook-replay.ts';
import { webhookDeliveries } from '../../db/schema/index.ts';
import { eventually, startStack } from '../helpers/stack.ts';
import { startWebhookReceiver, type ReceivedWebhook } from '../helpers/webhook-receiver.ts';

const GRACE = '8s';

t.test('replay and secret rotation', async (t) => {
  const stack = await startStack(t, { env: { OUTBOUND_RETRY_SCHEDULE: '50ms,100ms', OUTBOUND_SECRET_GRACE: GRACE } });
  const receiver = await startWebhookReceiver(t);
  const { apiKey, tenantId } = await createTenant(stack.database.db, 'replay-tenant');
  const api = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) => {
    const res = await stack.app.inject({ method, url, headers: { authorization: `Bearer ${apiKey}` }, ...(payload ? { payload } : {}) });
    return { status: res.statusCode, body: res.json() };
  };
  const put = await api('PUT', '/v1/webhook-endpoint', { url: receiver.url });
  t.equal(put.status, 201);
  t.equal(put.body.previousSecretExpiresAt, null, 'no rotation yet');
  receiver.secret = put.body.secret;

  const before = new Date(Date.now() - 1000).toISOString();
  const created = await api('POST', '/v1/verifications', { provider: 'persona', reference: 'replay-1' });
  t.equal(created.status, 202);
  const id: string = created.body.id;
  t.equal((await api('POST', `/v1/verifications/${id}/cancel`, {})).status, 200);
  const settled = await eventually(
    async () => (await api('GET', `/v1/webhook-deliveries?verificationId=${id}`)).body.data as any[],
    (list) => list.some((d) => d.eventType === 'verification.failed') && list.every((d) => d.status === 'succeeded'),
  );
  const window = { since: before, until: new Date(Date.now() + 1000).toISOString() };
  const firstRound = receiver.delivered().length;
  t.equal(firstRound, settled.length, 'each event delivered once');

  await t.test('replay re-sends the window under the original ids and bodies, in seq order', async (t) => {
    const replayed = await api('POST', '/v1/webhook-deliveries/replay', window);
    t.equal(replayed.status, 202);
    t.same(replayed.body, { replayed: settled.length, started: settled.length });
    await eventually(
      async () => receiver.delivered().length,
      (n) => n === 2 * firstRound,
    );
    const again = receiver.delivered().slice(firstRound);
    const original = receiver.delivered().slice(0, firstRound);
    t.same(
      again.map((r) => r.id),
      original.map((r) => r.id),
      'same webhook-ids, in the same (seq) order',
    );
    t.same(
      again.map((r) => r.body.seq),
      settled.map((_, i) => i + 1),
      'seq 1..n',
    );
    t.same(
      again.map((r) => r.body),
      original.map((r) => r.body),
      'same bodies',
    );
  });

  await t.test('status filter, bad window, over the cap: nothing re-queued', async (t) => {
    t.same((await api('POST', '/v1/webhook-deliveries/replay', { ...window, status: 'dead' })).body, { replayed: 0, started: 0 });
    const inverted = await api('POST', '/v1/webhook-deliveries/replay', { since: window.until, until: window.since });
    t.match(inverted, { status: 400, body: { code: 'invalid_replay_window' } });
    t.match(await api('POST', '/v1/webhook-deliveries/replay', { since: 'yesterday', until: window.until }), {
      status: 400,
      body: { code: 'validation_failed' },
    });
    // An old window holding one delivery more than a replay may re-send.
    const long = new Date('2001-01-01T00:00:00Z');
    await stack.directDb.insert(webhookDeliveries).values(
      Array.from({ length: REPLAY_MAX_DELIVERIES + 1 }, (_, i) => ({
        tenantId,
        verificationId: id,
        eventType: 'verification.status_changed',
        eventSeq: 10_000 + i,
        seq: 10_000 + i,
        payload: { type: 'verification.status_changed', timestamp: long.toISOString(), seq: 10_000 + i, data: { id } },
        status: 'dead' as const,
        createdAt: long,
      })),
    );
    const tooLarge = await api('POST', '/v1/webhook-deliveries/replay', { since: '2000-01-01T00:00:00Z', until: '2002-01-01T00:00:00Z' });
    t.match(tooLarge, { status: 422, body: { code: 'replay_too_large', detail: new RegExp(`${REPLAY_MAX_DELIVERIES + 1} deliveries`) } });
    const dead = await api('GET', '/v1/webhook-deliveries?status=pending');
    t.same(dead.body.data, [], 'nothing re-queued');
    const spec = (await stack.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    t.ok(spec.paths['/v1/webhook-deliveries/replay'].post.requestBody, 'documented in OpenAPI');
    t.match(spec.paths['/v1/webhook-deliveries/replay'].post.description, /replay_too_large/);
  });

  await t.test('a rotated secret keeps signing beside the new one for the grace period, then stops', async (t) => {
    const oldSecret = receiver.secret!;
    const rotated = await api('PUT', '/v1/webhook-endpoint', { url: receiver.url, rotateSecret: true });
    t.equal(rotated.status, 200);
    t.not(rotated.body.secret, oldSecret);
    t.ok(Date.parse(rotated.body.previousSecretExpiresAt) > Date.now(), 'grace until a time ahead');
    const newSecret: string = rotated.body.secret;

    /** Replays the verification's deliveries and returns the first, once all are delivered again. */
    const replayOne = async (): Promise<ReceivedWebhook> => {
      const n = receiver.received.length;
      const delivered = receiver.delivered().length;
      t.equal((await api('POST', '/v1/webhook-deliveries/replay', { ...window, status: 'succeeded' })).body.replayed, settled.length);
      await eventually(
        async () => receiver.delivered().length,
        (count) => count === delivered + settled.length,
      );
      return receiver.received[n]!;
    };
    const during = await replayOne();
    t.equal(String(during.headers['webhook-signature']).split(' ').length, 2, 'two signatures');
    t.ok(during.signatureValid, 'verifies with the old secret (the receiver still has it)');
    const raw = JSON.stringify(during.body);
    t.doesNotThrow(() => new Webhook(newSecret).verify(raw, during.headers as Record<string, string>), 'verifies with the new one');

    await eventually(
      async () => (await api('GET', '/v1/webhook-endpoint')).body,
      (endpoint) => endpoint.previousSecretExpiresAt === null,
      { timeoutMs: 15_000 },
    );
    receiver.secret = newSecret;
    const after = await replayOne();
    t.equal(String(after.headers['webhook-signature']).split(' ').length, 1, 'one signature after the grace period');
    t.ok(after.signatureValid, 'with the new secret');
    t.throws(
      () => new Webhook(oldSecret).verify(JSON.stringify(after.body), after.headers as Record<string, string>),
      'the old one no longer verifies',
    );
  });
});
