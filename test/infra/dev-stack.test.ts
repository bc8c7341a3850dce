// `npm run dev` as a developer runs it: custom secrets everywhere, a second tenant made with the
// CLI while it runs, a verification approved in the browser, one line per rejected webhook,
// Ctrl-C stopping every child, a restart right after, and a clear line for a taken port.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import postgres from 'postgres';
import t from 'tap';
import { lockPath } from '../../db/embedded-lock.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { DEV_STACK_PORTS, devStackEnv, portIsFree, spawnDev, startDev } from '../helpers/dev-process.ts';
import { eventually } from '../helpers/stack.ts';

const run = promisify(execFile);
/** "Within a few seconds" of Ctrl-C, with room for a machine under load. */
const STOP_LIMIT_MS = 15_000;
// Three starts of the whole stack: longer than the suite's default file timeout on a busy machine.
t.setTimeout(900_000);

const CUSTOM_SECRETS = {
  PERSONA_API_KEY: 'custom_persona_api_key',
  PERSONA_WEBHOOK_SECRET: 'custom_persona_webhook_secret',
  STRIPE_SECRET_KEY: 'sk_test_custom_stripe_key',
  STRIPE_WEBHOOK_SECRET: 'whsec_custom_stripe_secret',
  SMILEID_PARTNER_ID: '7777',
  SMILEID_API_KEY: 'custom_smileid_api_key',
  IDMETA_API_KEY: 'custom_idmeta_api_key',
  IDMETA_WEBHOOK_SECRET: 'custom_idmeta_webhook_secret',
};

async function api(url: string, key: string, init: { method?: string; body?: unknown; prefer?: string } = {}) {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...(init.prefer ? { prefer: init.prefer } : {}) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

t.test('a port already taken is one line naming the port and its setting', async (t) => {
  const env = await devStackEnv(t.testdir());
  const squatter = createServer().listen(Number(env.PORT), '127.0.0.1');
  await once(squatter, 'listening');
  t.teardown(() => squatter.close());
  const dev = spawnDev(t, env);
  const { code } = await dev.exited;
  t.equal(code, 1, 'npm run dev fails');
  const lines = dev
    .output()
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('>'));
  t.same(lines, [`Port ${env.PORT} is already in use (PORT): stop whatever holds it, or set PORT to another port.`], dev.output());
});

t.test('npm run dev with custom secrets, a CLI tenant, Chromium, Ctrl-C and a restart', async (t) => {
  const env = { ...(await devStackEnv(t.testdir())), ...CUSTOM_SECRETS };
  const dev = await startDev(t, env);
  const databaseUrl = dev.output().match(/DATABASE_URL=(\S+)/)?.[1];
  t.equal(databaseUrl, `postgres://postgres@127.0.0.1:${env.PGLITE_PORT}/postgres`, 'the banner prints the embedded database URL');

  // The CLI finds the running server by itself: same environment, no DATABASE_URL.
  const cliEnv = { ...process.env, DATABASE_URL: '', PGLITE_DIR: env.PGLITE_DIR, LOG_LEVEL: 'silent' };
  const created = JSON.parse((await run('npm', ['run', '--silent', 'tenants', '--', 'create', 'acme'], { env: cliEnv })).stdout) as {
    apiKey: string;
  };
  t.match(created.apiKey, /^vf_live_/);

  const verification = await api(`${dev.apiUrl}/v1/verifications`, created.apiKey, {
    method: 'POST',
    body: { provider: 'persona', reference: 'dev-stack' },
    prefer: 'wait=30',
  });
  t.equal(
    verification.status,
    201,
    'the API accepts the key the CLI just printed, and the worker (ready before the banner) opened the session',
  );

  const browser = await launchBrowser(t);
  const page = await browser.newPage();
  await page.goto(String(verification.body.sessionUrl));
  await page.getByTestId('approve').click();
  await page.waitForLoadState();
  const done = await eventually(
    () => api(`${dev.apiUrl}/v1/verifications/${verification.body.id}`, created.apiKey),
    (r) => r.body.status === 'approved',
    { timeoutMs: 60_000 },
  );
  t.equal(done.body.status, 'approved', 'the sandbox signed with the custom secret and the API accepted it');

  const forged = await fetch(`${dev.apiUrl}/webhooks/persona`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'persona-signature': `t=${Math.floor(Date.now() / 1000)},v1=00` },
    body: '{}',
  });
  t.equal(forged.status, 401);
  await forged.text();
  const [line] = await dev.waitFor(/✗ webhook rejected: persona 401: signature did not match PERSONA_WEBHOOK_SECRET.*/, 10_000);
  t.ok(line, `the rejection is printed: ${line}`);

  const sql = postgres(databaseUrl!, { max: 1, onnotice: () => {} });
  t.teardown(() => sql.end({ timeout: 1 }));
  const tenants = await sql<{ name: string }[]>`select name from tenants order by name`;
  t.same(
    tenants.map((r) => r.name),
    ['acme', 'dev'],
    'any Postgres client reads the same database',
  );
  await sql.end();

  const stopStarted = Date.now();
  dev.signalGroup('SIGINT');
  const exit = await dev.exited;
  const stopMs = Date.now() - stopStarted;
  t.ok(stopMs < STOP_LIMIT_MS, `Ctrl-C stopped npm run dev in ${stopMs} ms`);
  // npm itself ends by the SIGINT it was sent, as in a terminal; dev's own exit was clean.
  t.ok(exit.code === 0 || exit.signal === 'SIGINT', `npm run dev ended cleanly (${JSON.stringify(exit)})`);
  // Ctrl-C reaches the worker too, and dev stops it as well: that must not count as a second signal.
  const stopLog = dev.output().slice(dev.output().lastIndexOf('Stopping…'));
  t.notMatch(stopLog, /second signal while shutting down/, 'the worker was not cut short by a second signal');
  t.match(stopLog, /The worker drained and stopped\./, 'the worker drained and exited 0');
  for (const setting of DEV_STACK_PORTS) {
    t.ok(await portIsFree(env[setting]), `${setting} ${env[setting]} is free again: nothing was left running`);
  }
  t.notOk(existsSync(lockPath(env.PGLITE_DIR)), 'the embedded database lock is released');

  // With dev down, the CLI opens the directory itself.
  const listed = (await run('npm', ['run', '--silent', 'tenants', '--', 'list'], { env: cliEnv })).stdout;
  t.match(listed, /"name":"acme"/, 'the CLI works while dev is down');

  const again = await startDev(t, env);
  t.pass('a second npm run dev right after starts');
  again.signalGroup('SIGINT');
  const second = await again.exited;
  t.ok(second.code === 0 || second.signal === 'SIGINT', `the second one stops too (${JSON.stringify(second)})`);
});
