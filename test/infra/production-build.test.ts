// The production shape: `npm run build` output started with plain `node` (no type stripping, no bundling at
// start), NODE_ENV=production, a tenant made with the compiled CLI, and one Persona verification
// from create to approved through the compiled API and worker.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { startSandbox } from '../../sandbox/server.ts';
import { pickFreePort } from '../../scripts/lib/temporal-dev-server.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { eventually, PERSONA_SECRETS } from '../helpers/stack.ts';
import { startTestTemporal } from '../helpers/temporal.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const READY_TIMEOUT_MS = 60_000;

interface Running {
  child: ChildProcess;
  output: () => string;
}

function runNode(t: Test, script: string, env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, [script], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (c: string) => chunks.push(c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => chunks.push(c));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, output: () => chunks.join('') };
}

async function runToEnd(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [script, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, stdout, stderr };
}

t.test('the compiled API and worker run one verification end to end in production mode', async (t) => {
  const outDir = `.vf-scratch/build-${randomBytes(4).toString('hex')}`;
  t.teardown(() => rm(`${root}${outDir}`, { recursive: true, force: true }));
  const build = await runToEnd('scripts/build.ts', ['--out-dir', outDir], process.env);
  t.equal(build.code, 0, 'npm run build succeeds', build.code === 0 ? {} : { stderr: build.stderr.slice(-2000) });
  const dist = `${root}${outDir}`;
  for (const file of ['api/server.js', 'worker.js', 'workflow-bundle.js', 'scripts/tenants.js', 'db/migrations/meta/_journal.json']) {
    t.ok(existsSync(`${dist}/${file}`), `${file} is built`);
  }

  const [temporal, database, apiPort] = await Promise.all([startTestTemporal(t), createTestDatabase(t), pickFreePort()]);
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const sandbox = await startSandbox({
    port: 0,
    webhookTargets: { persona: `${apiUrl}/webhooks/persona` },
    secrets: { persona: PERSONA_SECRETS },
    webhookRetryDelaysMs: [0, 200, 1000],
  });
  t.teardown(() => sandbox.close());

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(apiPort),
    PUBLIC_BASE_URL: apiUrl,
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: `verifications-${apiPort}`,
    PAYLOAD_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    PERSONA_API_URL: sandbox.url,
    PERSONA_API_KEY: PERSONA_SECRETS.apiKey,
    PERSONA_WEBHOOK_SECRET: PERSONA_SECRETS.webhookSecret,
    PERSONA_TEMPLATE_ID: 'itmpl_test',
    LOG_LEVEL: 'info',
  };

  const tenant = await runToEnd(`${dist}/scripts/tenants.js`, ['create', 'production-build'], env);
  t.equal(tenant.code, 0, 'the compiled tenants CLI creates a tenant', tenant.code === 0 ? {} : { stderr: tenant.stderr });
  const { apiKey } = JSON.parse(tenant.stdout.trim().split('\n').at(-1)!) as { apiKey: string };

  const worker = runNode(t, `${dist}/worker.js`, env);
  const api = runNode(t, `${dist}/api/server.js`, env);
  const ready = await eventually(
    () =>
      fetch(`${apiUrl}/health/ready`).then(
        (r) => r.status,
        () => 0,
      ),
    (status) => status === 200 || api.child.exitCode !== null || worker.child.exitCode !== null,
    { timeoutMs: READY_TIMEOUT_MS, intervalMs: 250 },
  );
  t.equal(
    ready,
    200,
    'API ready with a polling worker',
    ready === 200 ? {} : { api: api.output().slice(-1500), worker: worker.output().slice(-1500) },
  );

  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  const created = await fetch(`${apiUrl}/v1/verifications`, {
    method: 'POST',
    headers: { ...headers, prefer: 'wait=20' },
    body: JSON.stringify({ provider: 'persona', reference: 'prod-build' }),
  });
  const body = (await created.json()) as { id: string; sessionUrl: string };
  t.equal(created.status, 201, 'the session was created by the compiled worker');
  const inquiryId = new URL(body.sessionUrl).searchParams.get('inquiry-id')!;
  const decided = await fetch(`${sandbox.url}/persona/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ 'inquiry-id': inquiryId, decision: 'approved' }).toString(),
  });
  await decided.text();
  const final = await eventually(
    () => fetch(`${apiUrl}/v1/verifications/${body.id}`, { headers }).then((r) => r.json() as Promise<{ status: string }>),
    (v) => v.status === 'approved',
    { timeoutMs: 30_000, intervalMs: 200 },
  );
  t.equal(final.status, 'approved', 'the signed webhook reached the compiled workflow');
  t.notMatch(worker.output(), /Workflow bundle created|webpack/, 'the worker loaded the prebuilt bundle instead of bundling at start');
});
