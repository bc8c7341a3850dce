// Outbound webhooks must not become a way into our network: endpoints on internal addresses are
// refused when set and when dialled, receivers' answers stay with us (tenants see the status code
// and a generic reason), and an answer is read only as far as we need it. Only loopback servers
// and addresses refused before any connection are used.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import t, { type Test } from 'tap';
import { createTenant } from '../../api/services/tenants.ts';
import { webhookEndpoints } from '../../db/schema/index.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';

async function listen(t: Pick<Test, 'teardown'>, server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
}

async function tenantApi(stack: Stack, name: string) {
  const { apiKey, tenantId } = await createTenant(stack.database.db, name);
  const call = async (method: 'GET' | 'PUT' | 'POST', url: string, payload?: object) => {
    const res = await stack.app.inject({ method, url, headers: { authorization: `Bearer ${apiKey}` }, ...(payload ? { payload } : {}) });
    return { status: res.statusCode, body: res.json() };
  };
  return { call, tenantId };
}

/** Creates a Persona verification and waits for its first delivery to settle as `status`. */
async function firstDelivery(call: Awaited<ReturnType<typeof tenantApi>>['call'], reference: string, until: (d: any) => boolean) {
  const created = await call('POST', '/v1/verifications', { provider: 'persona', reference });
  if (created.status !== 202) throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
  const list = await eventually(
    () => call('GET', `/v1/webhook-deliveries?verificationId=${created.body.id}`),
    (r) => r.body.data.length > 0 && until(r.body.data[0]),
    { timeoutMs: 30_000 },
  );
  return list.body.data[0];
}

t.test('outbound webhook SSRF', async (t) => {
  // Two quick attempts, then dead.
  const stack = await startStack(t, { env: { OUTBOUND_RETRY_SCHEDULE: '1ms' } });

  await t.test(
    'PUT refuses link-local (metadata), private, CGNAT, ULA, unspecified and multicast addresses, IPv4-mapped too',
    async (t) => {
      const { call } = await tenantApi(stack, 'ssrf-put');
      for (const url of [
        'http://169.254.169.254/latest/meta-data/',
        'http://10.0.0.1/',
        'http://172.16.5.4/hooks',
        'http://192.168.1.1/hooks',
        'http://100.64.0.1/hooks',
        'http://[fd00::1]/hooks',
        'http://[fe80::1]/hooks',
        'http://[::ffff:169.254.169.254]/hooks',
        'http://[::ffff:a00:1]/hooks',
        'http://0.0.0.0/hooks',
        'http://[::]/hooks',
        'http://224.0.0.1/hooks',
      ]) {
        const put = await call('PUT', '/v1/webhook-endpoint', { url });
        t.equal(put.status, 400, `${url} refused`);
        t.match(put.body, { code: 'webhook_url_not_allowed', detail: /not allowed/ }, url);
      }
      t.equal((await call('GET', '/v1/webhook-endpoint')).status, 404, 'nothing stored');
      t.equal(
        (await call('PUT', '/v1/webhook-endpoint', { url: 'http://127.0.0.1:9/hooks' })).status,
        201,
        'loopback allowed (the test stack sets OUTBOUND_ALLOW_LOOPBACK)',
      );
    },
  );

  await t.test("a receiver's answer body and socket errors never reach the tenant", async (t) => {
    const secretText = 'internal-admin-panel: root password hunter2';
    const url = await listen(
      t,
      createServer((_req, res) => res.writeHead(500, { 'content-type': 'text/plain' }).end(secretText)),
    );
    const { call } = await tenantApi(stack, 'ssrf-body');
    t.equal((await call('PUT', '/v1/webhook-endpoint', { url })).status, 201);
    const failed = await firstDelivery(call, 'ssrf-body-1', (d) => d.status === 'dead');
    t.equal(failed.lastStatusCode, 500);
    t.notMatch(failed.lastError, /hunter2|internal-admin/, 'no body text');
    t.equal(failed.lastError, 'HTTP 500');

    // A port nothing listens on: the socket error (ECONNREFUSED 127.0.0.1:port) stays ours.
    const closed = createServer();
    const closedUrl = await listen(t, closed);
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    t.equal((await call('PUT', '/v1/webhook-endpoint', { url: closedUrl })).status, 200);
    const refused = await firstDelivery(call, 'ssrf-body-2', (d) => d.status === 'dead');
    t.equal(refused.lastStatusCode, null);
    t.notMatch(refused.lastError, /ECONNREFUSED|127\.0\.0\.1/, 'no socket error');
    t.equal(refused.lastError, 'Could not connect to the endpoint');
  });

  await t.test('at most 1 KiB of an answer is read: a 64 MiB answer is cut off', async (t) => {
    const total = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    let finished = false;
    const url = await listen(
      t,
      createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(total) });
        const pump = () => {
          while (sent < total) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end(() => (finished = true));
        };
        res.once('close', () => res.removeAllListeners('drain'));
        pump();
      }),
    );
    const { call } = await tenantApi(stack, 'ssrf-large');
    t.equal((await call('PUT', '/v1/webhook-endpoint', { url })).status, 201);
    const delivered = await firstDelivery(call, 'ssrf-large-1', (d) => d.status !== 'pending');
    t.match(delivered, { status: 'succeeded', lastStatusCode: 200 }, 'a 2xx status is success whatever follows');
    t.notOk(finished, 'the receiver could not finish sending');
    t.ok(sent < total / 4, `the receiver got ${Math.round(sent / 1024 / 1024)} MiB out of 64 before the connection closed`);
  });

  await t.test('redirects are not followed', async (t) => {
    let followed = 0;
    const target = await listen(
      t,
      createServer((_req, res) => (followed++, res.writeHead(200).end())),
    );
    const url = await listen(
      t,
      createServer((_req, res) => res.writeHead(307, { location: target }).end()),
    );
    const { call } = await tenantApi(stack, 'ssrf-redirect');
    t.equal((await call('PUT', '/v1/webhook-endpoint', { url })).status, 201);
    const failed = await firstDelivery(call, 'ssrf-redirect-1', (d) => d.status === 'dead');
    t.equal(failed.lastStatusCode, 307);
    t.equal(followed, 0, 'the redirect target saw nothing');
  });

  await t.test('an endpoint stored before the rules (or changed under them) is checked again when dialled', async (t) => {
    const { call, tenantId } = await tenantApi(stack, 'ssrf-stored');
    t.equal((await call('PUT', '/v1/webhook-endpoint', { url: 'https://client.example/hooks' })).status, 201);
    await stack.database.db
      .update(webhookEndpoints)
      .set({ url: 'http://169.254.169.254/latest/meta-data/' })
      .where(eq(webhookEndpoints.tenantId, tenantId));
    const refused = await firstDelivery(call, 'ssrf-stored-1', (d) => d.status === 'dead');
    t.match(refused, {
      status: 'dead',
      lastStatusCode: null,
      lastError: 'The endpoint address is not allowed (loopback, private, link-local or reserved)',
    });
  });
});
