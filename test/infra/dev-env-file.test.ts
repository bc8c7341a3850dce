// A developer configures veriflow by copying .env.example to .env (git-ignored) and editing it:
// `npm run dev` and the CLIs beside it read that file, and a variable set in the environment
// still wins over it. VERIFLOW_ENV_FILE names another file (here a temp one, so the test never
// touches the checkout's own .env); set empty, no file is read (the test runner does that).
import { execFile } from 'node:child_process';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { devStackEnv, spawnDev, startDev } from '../helpers/dev-process.ts';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.ts';

const run = promisify(execFile);
t.setTimeout(600_000);

t.test('npm run dev takes its port and key from .env, the environment winning over the file', async (t) => {
  const dir = t.testdir();
  // The API's port and the embedded database's place come from the file alone.
  const { PORT: _port, PGLITE_PORT, PGLITE_DIR, ...placed } = await devStackEnv(dir);
  const port = String(await pickFreePort());
  const envFile = join(dir, '.env');
  await writeFile(
    envFile,
    [
      '# copied from .env.example and edited',
      `PORT=${port}`,
      `PGLITE_PORT=${PGLITE_PORT}`,
      `PGLITE_DIR=${PGLITE_DIR}`,
      'VERIFLOW_DEV_API_KEY=vf_key_from_the_file_000001',
      'PERSONA_WEBHOOK_SECRET=persona_secret_from_the_file',
    ].join('\n'),
  );
  const dev = await startDev(t, {
    ...placed,
    VERIFLOW_ENV_FILE: envFile,
    PERSONA_WEBHOOK_SECRET: 'persona_secret_from_the_environment',
  } as unknown as Parameters<typeof startDev>[1]);
  const apiUrl = `http://127.0.0.1:${port}`;

  t.match(dev.output(), `API        ${apiUrl}`, 'the API listens on the port the file names, and says so');
  t.match(dev.output(), 'API key    vf_key_from_the_file_000001');
  t.match(dev.output(), `Settings   ${envFile}`, 'and it says which file it read');
  const created = await fetch(`${apiUrl}/v1/verifications`, {
    method: 'POST',
    headers: { authorization: 'Bearer vf_key_from_the_file_000001', 'content-type': 'application/json', prefer: 'wait=20' },
    body: JSON.stringify({ provider: 'persona' }),
  });
  t.equal(created.status, 201, 'the key from the file opens the API (201: answered with its session)');
  const verification = (await created.json()) as { sessionUrl: string | null };
  t.ok(verification.sessionUrl, 'and a session opens');

  // The sandbox signs with the secret the API verifies: the environment's, not the file's.
  const body = JSON.stringify({ data: { type: 'event', attributes: { name: 'inquiry.started' } } });
  const signedWith = async (secret: string) => {
    const { signPersona } = await import('../helpers/persona-webhooks.ts');
    const res = await fetch(`${apiUrl}/webhooks/persona`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'persona-signature': signPersona(body, secret) },
      body,
    });
    return res.status;
  };
  t.equal(await signedWith('persona_secret_from_the_file'), 401, "the file's value lost to the environment's");
  t.not(await signedWith('persona_secret_from_the_environment'), 401, "the environment's value is the one verified");

  // A CLI beside it reads the same file, so it reaches the same database: the key it makes opens this API.
  const { DATABASE_URL: _database, ...inherited } = process.env;
  const { stdout } = await run('npm', ['run', '--silent', 'tenants', '--', 'create', 'acme'], {
    env: { ...inherited, VERIFLOW_ENV_FILE: envFile },
  });
  const { apiKey } = JSON.parse(stdout) as { apiKey: string };
  const listed = await fetch(`${apiUrl}/v1/verifications`, { headers: { authorization: `Bearer ${apiKey}` } });
  t.equal(listed.status, 200, 'the tenant the CLI made through the file is one the running API knows');
});

t.test('.env.example copied as it is runs the same sandbox stack as no file at all', async (t) => {
  const dir = t.testdir();
  const placed = await devStackEnv(dir);
  const envFile = join(dir, '.env');
  await copyFile(fileURLToPath(new URL('../../.env.example', import.meta.url)), envFile);
  const dev = await startDev(t, { ...placed, VERIFLOW_ENV_FILE: envFile });
  t.notMatch(dev.output(), 'is not simulated', 'every provider is the sandbox, none sent to the real API');
  t.match(dev.output(), /Operator {3}vf_op_dev_[0-9a-f]{24}/, "dev's operator token, not an empty one");
  t.notMatch(dev.output(), /"level":30/, "dev's quiet log level, not the file's");
  const created = await fetch(`${dev.apiUrl}/v1/verifications`, {
    method: 'POST',
    headers: { authorization: 'Bearer vf_dev_key', 'content-type': 'application/json', prefer: 'wait=20' },
    body: JSON.stringify({ provider: 'persona' }),
  });
  const { sessionUrl } = (await created.json()) as { sessionUrl: string | null };
  t.match(sessionUrl, dev.sandboxUrl, "the session opens at the sandbox's hosted flow");
});

t.test('a VERIFLOW_ENV_FILE that does not exist stops dev with one line naming it', async (t) => {
  const missing = join(t.testdir(), 'no-such.env');
  const dev = spawnDev(t, { ...(await devStackEnv(t.testdir())), VERIFLOW_ENV_FILE: missing });
  await dev.waitFor(/no such file/, 60_000);
  t.not((await dev.exited).code, 0);
  t.match(dev.output(), `VERIFLOW_ENV_FILE=${missing}: no such file`);
  t.notMatch(dev.output(), 'veriflow is running');
});
