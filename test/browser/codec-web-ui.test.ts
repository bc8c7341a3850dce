// The Temporal Web UI of the dev server, configured as `npm run dev` does (--ui-codec-endpoint
// pointing at the API's /codec), in real Chromium: the history Temporal stores is ciphertext,
// and the UI shows it decrypted because the browser asked our codec endpoint (CORS preflight,
// x-namespace header and all).
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { buildApp } from '../../api/app.ts';
import { parseEnv, timersFromEnv } from '../../config/env.ts';
import { pino } from 'pino';
import { providersFromEnv } from '../../wiring/providers.ts';
import { connectClient } from '../../wiring/temporal.ts';
import { pickFreePort, startTemporalDevServer } from '../../scripts/lib/temporal-dev-server.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { createTestDatabase } from '../helpers/database.ts';

t.test('Web UI decodes encrypted payloads through the API codec endpoint', async (t) => {
  const marker = `decoded-by-veriflow-${randomBytes(4).toString('hex')}`;
  const [db, apiPort] = await Promise.all([createTestDatabase(t), pickFreePort()]);
  const server = await startTemporalDevServer({ dbFile: null, uiPort: 0, uiCodecEndpoint: `http://127.0.0.1:${apiPort}/codec` });
  t.teardown(() => server.stop());
  const settings = (await (await fetch(`${server.uiUrl}/api/v1/settings`)).json()) as { Codec?: { Endpoint?: string } };
  t.equal(settings.Codec?.Endpoint, `http://127.0.0.1:${apiPort}/codec`, 'the UI is configured with our codec endpoint');

  const env = parseEnv({
    NODE_ENV: 'test',
    PORT: String(apiPort),
    DATABASE_URL: db.url,
    TEMPORAL_ADDRESS: server.address,
    CODEC_CORS_ORIGINS: server.uiUrl!,
  });
  const client = await connectClient({ ...env, TEMPORAL_ADDRESS: server.address });
  t.teardown(() => client.connection.close());
  const app = await buildApp({
    env,
    database: db.handle,
    temporal: client,
    providers: providersFromEnv(env),
    timers: timersFromEnv(env),
    logger: pino({ level: 'silent' }),
    defaultTemplates: {},
  });
  const codecCalls: { method: string; url: string; status: number; namespace: unknown }[] = [];
  app.addHook('onResponse', async (request, reply) => {
    if (request.url.startsWith('/codec/'))
      codecCalls.push({ method: request.method, url: request.url, status: reply.statusCode, namespace: request.headers['x-namespace'] });
  });
  await app.listen({ host: '127.0.0.1', port: apiPort });
  t.teardown(() => app.close());

  // No worker: the input alone is in the history, written by the encrypting client.
  const workflowId = `codec-probe-${randomBytes(3).toString('hex')}`;
  const handle = await client.workflow.start('codecProbe', { taskQueue: 'nobody-polls-this', workflowId, args: [{ note: marker }] });
  const stored = await fetch(`${server.uiUrl}/api/v1/namespaces/default/workflows/${workflowId}/history`).then((r) => r.text());
  t.notMatch(stored, marker, 'what the server hands the UI is ciphertext');
  t.notMatch(Buffer.from(stored).toString('utf8'), Buffer.from(marker).toString('base64').slice(0, 12));

  const browser = await launchBrowser(t);
  const page = await browser.newPage();
  await page.goto(`${server.uiUrl}/namespaces/default/workflows/${workflowId}/${handle.firstExecutionRunId}/history`);
  await page.getByText(marker).first().waitFor({ timeout: 30_000 });
  t.pass('the UI shows the decrypted input');
  await page.screenshot({ path: '.tap/codec-web-ui.png', fullPage: true });

  t.ok(
    codecCalls.some((c) => c.method === 'OPTIONS' && c.status === 204),
    'the browser sent a CORS preflight and it was allowed',
  );
  t.ok(
    codecCalls.some((c) => c.method === 'POST' && c.url === '/codec/decode' && c.status === 200 && c.namespace === 'default'),
    'the UI called /codec/decode with x-namespace',
  );
  t.comment(`codec calls: ${codecCalls.map((c) => `${c.method} ${c.url} ${c.status}`).join(', ')}`);
  await handle.terminate('test over');
});
