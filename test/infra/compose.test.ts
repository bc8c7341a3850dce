// No Docker engine runs on our machines, so docker-compose.yml and the Dockerfile are checked
// here instead: services, pinned images, healthchecks, an environment that config/env.ts accepts
// in production, the Web UI's codec wiring, and a multi-stage, non-root image with prod deps only.
// The search-attribute registration step is also run, as compose would, against a real Temporal.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { symlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { msToTs } from '@temporalio/common/lib/time.js';
import t from 'tap';
import { parseDocument } from 'yaml';
import { parseDuration } from '../../config/duration.ts';
import { EnvSchema, parseEnv } from '../../config/env.ts';
import { WORKER_PROCESS_ENV } from '../../bench/process-env.ts';
import { resolveTemporalCli } from '../../scripts/lib/temporal-cli.ts';
import { pickFreePort, SERVER_DYNAMIC_CONFIG, VERIFICATION_SEARCH_ATTRIBUTES } from '../../scripts/lib/temporal-dev-server.ts';
import { eventually } from '../helpers/stack.ts';
import { startTestTemporal } from '../helpers/temporal.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

interface Service {
  image?: string;
  build?: unknown;
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string | number | boolean | null>;
  healthcheck?: { test?: unknown; interval?: string; retries?: number };
  depends_on?: string[] | Record<string, { condition?: string }>;
  ports?: string[];
  stop_grace_period?: string;
  restart?: string;
}

const document = parseDocument(composeText, { merge: true });
const compose = document.toJS({ maxAliasCount: 100 }) as { services: Record<string, Service> };
const services = compose.services;

/** An image reference pinned to a version (or a digest): never `latest`, never untagged. */
function isPinned(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const tag = /:([^:/]+)$/.exec(image)?.[1];
  return tag !== undefined && tag !== 'latest' && /\d/.test(tag);
}

/**
 * Compose's interpolation (`${VAR}`, `${VAR:-default}`, `${VAR:?error}`) with the given
 * environment, as `docker compose config` would do it.
 */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(
    /\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}/g,
    (_match, name: string, op: string | undefined, arg: string | undefined) => {
      const set = vars[name];
      if (op?.endsWith('?') && !set) throw new Error(`compose would refuse to start: ${name}: ${arg}`);
      if (set !== undefined && (set !== '' || !op?.startsWith(':'))) return set;
      return op?.endsWith('-') ? (arg ?? '') : '';
    },
  );
}

t.test('the file parses cleanly', async (t) => {
  t.same(document.errors, [], 'no YAML errors');
  t.same(document.warnings, [], 'no YAML warnings');
  t.equal(Object.keys(compose).includes('version'), false, 'no obsolete top-level version key');
});

t.test('services: the production-shaped stack', async (t) => {
  const names = Object.keys(services);
  t.comment(`services: ${names.join(', ')}`);
  for (const required of ['postgres', 'temporal', 'temporal-ui', 'api', 'worker']) t.ok(services[required], `${required} is defined`);
  for (const [name, service] of Object.entries(services)) t.ok(service.image || service.build, `${name} has an image or a build`);
  t.ok(services.api!.build && services.worker!.build, 'api and worker are built from the Dockerfile');
  // Compiled by `npm run build` in the image: plain node, no type stripping, no bundling at start.
  t.match(services.api!.command, ['node', 'dist/api/server.js']);
  // The worker's heap is bounded, old and young generation (README "Worker memory"): V8's defaults let it grow to GBs,
  // and `npm run start:worker` starts it the same way.
  const workerCommand = ['node', '--max-old-space-size=128', '--max-semi-space-size=16', 'dist/worker.js'];
  t.same(services.worker!.command, workerCommand);
  // And glibc's malloc arenas: one per thread by default, each holding freed memory of its own.
  t.equal((services.worker!.environment as Record<string, unknown>).MALLOC_ARENA_MAX, WORKER_PROCESS_ENV.MALLOC_ARENA_MAX);
  t.equal(packageJson.scripts['start:worker'], `MALLOC_ARENA_MAX=${WORKER_PROCESS_ENV.MALLOC_ARENA_MAX} ${workerCommand.join(' ')}`);
});

t.test('every image is pinned to a version (no latest, no untagged)', async (t) => {
  for (const [name, service] of Object.entries(services)) {
    if (service.image) t.ok(isPinned(service.image), `${name}: ${service.image}`);
  }
  const fromImages = [...dockerfile.matchAll(/^FROM\s+(\S+)/gim)].map((m) => m[1]!);
  const stages = new Set([...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1]!.toLowerCase()));
  for (const image of fromImages.filter((i) => !stages.has(i.toLowerCase()))) t.ok(isPinned(image), `Dockerfile FROM ${image}`);
  t.notOk(isPinned('node:latest') || isPinned('node') || isPinned('temporalio/ui:latest'), 'the check itself rejects latest and untagged');
});

t.test('healthchecks, and start order on health', async (t) => {
  for (const name of ['postgres', 'temporal', 'api', 'worker']) {
    const check = services[name]!.healthcheck;
    t.ok(Array.isArray(check?.test) && (check.test as unknown[]).length > 1, `${name} has a healthcheck`);
  }
  for (const name of ['api', 'worker']) {
    const deps = services[name]!.depends_on as Record<string, { condition?: string }>;
    t.equal(deps.postgres?.condition, 'service_healthy', `${name} waits for a healthy postgres`);
    t.equal(deps.temporal?.condition, 'service_healthy', `${name} waits for a healthy temporal`);
  }
  t.match(JSON.stringify(services.api!.healthcheck!.test), /\/health\/live/);
});

t.test('api and worker environment: every name is in config/env.ts, and it parses in production', async (t) => {
  const known = new Set(Object.keys(EnvSchema.properties));
  const secrets = { PAYLOAD_ENCRYPTION_KEYS: `v1:${Buffer.alloc(32, 7).toString('base64')}` };
  for (const name of ['api', 'worker']) {
    const environment = services[name]!.environment ?? {};
    // WORKER_PROCESS_ENV is read by the C library, not by config/env.ts.
    const unknown = Object.keys(environment).filter((key) => !known.has(key) && !(key in WORKER_PROCESS_ENV));
    t.same(unknown, [], `${name}: no variable config/env.ts does not know (it would be ignored silently)`);
    for (const required of ['NODE_ENV', 'DATABASE_URL', 'TEMPORAL_ADDRESS', 'PAYLOAD_ENCRYPTION_KEYS', 'CODEC_CORS_ORIGINS'])
      t.ok(required in environment, `${name} sets ${required}`);
    for (const provider of [
      'PERSONA_API_KEY',
      'STRIPE_SECRET_KEY',
      'STRIPE_WEBHOOK_SECRET',
      'VERIFLOW_LINK_SECRET',
      'SMILEID_PARTNER_ID',
      'SMILEID_API_KEY',
      'IDMETA_API_KEY',
      'IDMETA_WEBHOOK_SECRET',
    ]) {
      t.ok(provider in environment, `${name} passes ${provider} through`);
    }
    for (const optional of ['SMTP_URL', 'EMAIL_FROM'])
      if (known.has(optional)) t.ok(optional in environment, `${name} passes ${optional} through`);
    const resolved = Object.fromEntries(
      Object.entries(environment).map(([key, value]) => [key, interpolate(String(value ?? ''), secrets)]),
    );
    t.equal(resolved.NODE_ENV, 'production');
    const env = parseEnv(resolved);
    t.equal(env.PAYLOAD_ENCRYPTION_KEYS, secrets.PAYLOAD_ENCRYPTION_KEYS, `${name}: parses as production config`);
    t.throws(
      () => interpolate(String(environment.PAYLOAD_ENCRYPTION_KEYS), {}),
      /PAYLOAD_ENCRYPTION_KEYS/,
      `${name}: compose refuses to start without encryption keys`,
    );
  }
  const worker = parseEnv(
    Object.fromEntries(Object.entries(services.worker!.environment!).map(([k, v]) => [k, interpolate(String(v ?? ''), secrets)])),
  );
  t.ok(worker.METRICS_PORT, 'the worker serves /metrics for its healthcheck');
  t.match(JSON.stringify(services.worker!.healthcheck!.test), `:${worker.METRICS_PORT}/metrics`);
  t.ok(
    parseDuration(services.worker!.stop_grace_period ?? '10s') > parseDuration(worker.WORKER_SHUTDOWN_GRACE_TIME),
    'docker waits longer than the worker drains before SIGKILL',
  );
});

t.test('Web UI: payloads decrypted through the API codec endpoint, allowed by CORS', async (t) => {
  const ui = services['temporal-ui']!;
  const endpoint = interpolate(String(ui.environment?.TEMPORAL_CODEC_ENDPOINT ?? ''), {});
  t.equal(endpoint, 'http://localhost:3000/codec', 'the codec endpoint is the API as the browser reaches it');
  const api = services.api!;
  t.equal(
    new URL(endpoint).origin,
    new URL(interpolate(String(api.environment?.PUBLIC_BASE_URL), {})).origin,
    'same default as PUBLIC_BASE_URL',
  );
  const uiPort = ui.ports?.[0]?.split(':').at(-2);
  const origins = interpolate(String(api.environment?.CODEC_CORS_ORIGINS), {}).split(',');
  t.ok(origins.includes(`http://localhost:${uiPort}`), `the API lets the UI origin (port ${uiPort}) call /codec`);
});

t.test('Temporal (frontend and Web UI) is reachable from this host only: it has no authentication of its own', async (t) => {
  for (const name of ['temporal', 'temporal-ui', 'temporal-admin']) {
    for (const port of services[name]?.ports ?? []) {
      t.match(port, /^127\.0\.0\.1:\d+:\d+$/, `${name} publishes ${port} on loopback only`);
    }
  }
  t.ok(services['temporal-ui']!.ports?.length, 'the UI is published (on loopback, for an authenticating proxy or an SSH tunnel)');
  t.notOk(services.temporal!.ports?.length, 'the frontend is not published at all');
});

t.test('Dockerfile: builds dist/ once, runtime has prod dependencies and dist only, ends non-root', async (t) => {
  const lines = dockerfile
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const froms = lines.filter((l) => /^FROM\s/i.test(l));
  t.ok(froms.length >= 2, `multi-stage (${froms.length} stages)`);
  for (const from of froms) t.match(from, /^FROM node:24\./, `${from}: the Node LTS line the suite runs on`);
  t.ok(
    lines.some((l) => /^RUN\s.*\bnpm ci\b.*--omit=dev/i.test(l)),
    'npm ci --omit=dev',
  );
  t.notOk(
    lines.some((l) => /^RUN\s.*\bnpm (install|i)\b/i.test(l)),
    'never npm install (the lockfile decides)',
  );
  t.ok(
    lines.some((l) => /^RUN\s+npm run build$/.test(l)),
    'a build stage runs npm run build',
  );
  const lastFrom = lines.findLastIndex((l) => /^FROM\s/i.test(l));
  const runtime = lines.slice(lastFrom);
  const users = runtime.filter((l) => /^USER\s/i.test(l));
  const finalUser = users.at(-1)?.split(/\s+/)[1];
  t.ok(finalUser && !['root', '0', '0:0'].includes(finalUser), `the final stage runs as ${finalUser}`);
  t.ok(
    runtime.some((l) => /^COPY\s+--from=\S+\s+\/app\/dist\s/i.test(l)),
    'the runtime stage copies dist/ from the build',
  );
  t.notOk(
    runtime.some((l) => /^COPY\s+(?!--from)\S*\s*(api|workflows|worker\.ts)\b/.test(l)),
    'no TypeScript sources in the runtime stage',
  );
  t.match(runtime.at(-1), /^CMD \["node", "dist\/api\/server\.js"\]$/, 'starts the compiled API');

  // Dependencies we patch (patches/, applied by patch-package on npm install) run patched in the image too.
  t.ok(readdirSync(join(ROOT, 'patches')).length > 0, 'patches/ holds our patches to dependencies');
  t.ok(
    lines.some((l) => /^RUN\s.*\bnpm ci\b.*--omit=dev.*&& npx patch-package$/.test(l)),
    'the production dependencies are patched where they are installed',
  );
  t.ok(lines.includes('COPY patches ./patches'), 'with the patches copied in');

  // Everything api/server.ts and worker.ts import (transitively) must reach the build stage.
  const copied = new Set(
    lines
      .slice(0, lastFrom)
      .filter((l) => /^COPY\s/i.test(l) && !/--from=/i.test(l))
      .flatMap((l) => l.split(/\s+/).slice(1, -1))
      .map((p) => p.replace(/^\.\//, '').replace(/\/$/, '')),
  );
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/(?:from\s+|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = join(dirname(file), match[1]!).replace(/\.js$/, '.ts');
      if (existsSync(target)) visit(target);
    }
  };
  // What tsconfig.build.json compiles into dist/ (the API, the worker and the operator CLIs), and the build script.
  const buildFiles = (
    JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8').replace(/^\s*\/\/.*$/gm, '')) as { files: string[] }
  ).files;
  for (const cli of ['scripts/tenants.ts', 'scripts/webhooks.ts'])
    t.ok(buildFiles.includes(cli), `the image has the ${cli} operator CLI (dist/)`);
  for (const entry of [...buildFiles, 'scripts/build.ts']) visit(join(ROOT, entry));
  const needed = new Set([...seen].map((file) => relative(ROOT, file).split('/')[0]!));
  const missing = [...needed].filter((entry) => !copied.has(entry));
  t.same(missing, [], `the build stage has every source the entries import (${[...needed].sort().join(', ')})`);
});

/** The registration step's argv as the container runs it: entrypoint, then command. */
const registration = [...(services['temporal-admin']?.entrypoint ?? []), ...(services['temporal-admin']?.command ?? [])];

function flagValues(argv: string[], flag: string): string[] {
  return argv.flatMap((arg, i) => (arg === flag && argv[i + 1] !== undefined ? [argv[i + 1]!] : []));
}

function withFlag(argv: string[], flag: string, value: string): string[] {
  return argv.map((arg, i) => (argv[i - 1] === flag ? value : arg));
}

t.test('search attributes: registered before the API and worker start, and a failed registration stops them', async (t) => {
  const admin = services['temporal-admin'];
  t.ok(admin, 'a one-shot service registers the search attributes');
  t.notMatch(composeText, /\|\|\s*(true|:|exit 0)\b/, 'no command in the file swallows its own failure (`|| true`)');
  t.equal(registration[0], 'temporal', 'the CLI is the entrypoint: no shell between its exit code and compose');
  t.same(registration.slice(1, 4), ['operator', 'search-attribute', 'create']);
  const names = flagValues(registration, '--name');
  const types = flagValues(registration, '--type');
  t.same(
    Object.fromEntries(names.map((name, i) => [name, types[i]])),
    VERIFICATION_SEARCH_ATTRIBUTES,
    'the attributes and types the workflows use (as the dev server and the cluster register them)',
  );
  t.equal(names.length, types.length, 'one --type per --name');
  const apiEnv = services.api!.environment!;
  t.same(flagValues(registration, '--namespace'), [apiEnv.TEMPORAL_NAMESPACE], 'the namespace the API and worker use');
  t.same(flagValues(registration, '--address'), [apiEnv.TEMPORAL_ADDRESS], 'the frontend the API and worker use');
  t.equal(admin?.restart, 'no', 'runs once per `up`');
  t.equal(
    (admin?.depends_on as Record<string, { condition?: string }>)?.['temporal-namespace']?.condition,
    'service_completed_successfully',
    'registers only once temporal-namespace has made sure the namespace the attributes go into exists',
  );
  for (const name of ['api', 'worker']) {
    const deps = services[name]!.depends_on as Record<string, { condition?: string }>;
    t.equal(deps['temporal-admin']?.condition, 'service_completed_successfully', `${name} starts only after the registration succeeded`);
  }
});

/** A one-shot service's shell script as the container runs it (`/bin/sh -euc <script>`), `$$` unescaped as compose does. */
function shellStep(name: string): string {
  const service = services[name];
  if (!service) throw new Error(`no ${name} service`);
  if (JSON.stringify(service.entrypoint) !== JSON.stringify(['/bin/sh', '-euc']) || service.command?.length !== 1)
    throw new Error(`${name}: expected entrypoint /bin/sh -euc and one script`);
  return interpolate(service.command[0]!, {}).replaceAll('$$', '$');
}

const dependsOn = (name: string) => services[name]?.depends_on as Record<string, { condition?: string }> | undefined;

t.test('Temporal schemas and namespace: set up by one-shot steps of the server release, before what needs them', async (t) => {
  const images = ['temporal-schema', 'temporal', 'temporal-namespace', 'temporal-admin'].map((name) => services[name]?.image ?? '');
  t.same(
    images.map((image) => image.split(':')[1]),
    images.map(() => images[1]!.split(':')[1]),
    `server and admin tools of one release (${images.join(', ')})`,
  );
  t.match(services.temporal!.image, /^temporalio\/server:/, 'the server image (auto-setup is deprecated)');
  t.equal(dependsOn('temporal-schema')?.postgres?.condition, 'service_healthy');
  t.equal(dependsOn('temporal')?.['temporal-schema']?.condition, 'service_completed_successfully', 'the server starts on set-up schemas');
  t.equal(dependsOn('temporal-namespace')?.temporal?.condition, 'service_healthy');
  for (const name of ['temporal-schema', 'temporal-namespace']) t.equal(services[name]!.restart, 'no', `${name} runs once per \`up\``);

  const schema = shellStep('temporal-schema');
  const serverEnv = services.temporal!.environment ?? {};
  // The server's config template defaults: databases temporal and temporal_visibility.
  t.notOk('DBNAME' in serverEnv || 'VISIBILITY_DBNAME' in serverEnv, 'the server uses the default database names');
  for (const [db, schemaName] of [
    ['temporal', 'postgresql/v12/temporal'],
    ['temporal_visibility', 'postgresql/v12/visibility'],
  ] as const) {
    t.match(schema, `temporal-sql-tool --db ${db} create\n`, `${db}: created`);
    t.match(schema, `temporal-sql-tool --db ${db} setup-schema -v 0.0\n`, `${db}: versioning tables`);
    t.match(
      schema,
      `temporal-sql-tool --db ${db} update-schema --schema-name ${schemaName}\n`,
      `${db}: updated to the tool's embedded schema`,
    );
  }
  const schemaEnv = services['temporal-schema']!.environment ?? {};
  t.equal(schemaEnv.SQL_PLUGIN, serverEnv.DB, 'the SQL tool and the server use the same plugin');
  t.equal(schemaEnv.SQL_HOST, serverEnv.POSTGRES_SEEDS, 'and the same PostgreSQL');
  t.equal(schemaEnv.SQL_PASSWORD, serverEnv.POSTGRES_PWD, 'with the same credentials');
  t.ok(
    (services.temporal as { configs?: { target?: string }[] }).configs?.some(
      (c) => c.target === '/etc/temporal/config/dynamicconfig/docker.yaml',
    ),
    'the server gets the dynamic config file its image lacks (it refuses to start without one)',
  );
  const dynamicConfig = parseDocument(
    (document.toJS() as { configs: Record<string, { content: string }> }).configs['temporal-dynamic-config']!.content,
  ).toJS() as Record<string, { value: unknown }[]>;
  for (const [key, value] of Object.entries(SERVER_DYNAMIC_CONFIG)) {
    t.same(dynamicConfig[key], [{ value }], `${key}: ${value}, as the dev server and the test cluster run`);
  }
});

function runCli(path: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

t.test('the registration command against a real Temporal: idempotent, and loud when it cannot register', async (t) => {
  const [temporal, cli] = await Promise.all([startTestTemporal(t), resolveTemporalCli()]);
  // A namespace of its own: the test server already has these attributes in `default`.
  const namespace = `compose-${randomBytes(4).toString('hex')}`;
  await temporal.connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  const known = await eventually(
    () =>
      temporal.connection.operatorService.listSearchAttributes({ namespace }).then(
        () => true,
        () => false,
      ),
    (ok) => ok,
    { timeoutMs: 30_000, intervalMs: 250 },
  );
  t.ok(known, `namespace ${namespace} is served`);
  const argv = withFlag(withFlag(registration.slice(1), '--address', temporal.address), '--namespace', namespace);

  const first = await runCli(cli.path, argv);
  t.equal(first.code, 0, 'first run registers', { output: first.output });
  const registered = (await temporal.connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  for (const name of Object.keys(VERIFICATION_SEARCH_ATTRIBUTES)) t.ok(name in registered, `${name} is registered`);
  const again = await runCli(cli.path, argv);
  t.equal(again.code, 0, 'a second `up` (attributes already there) succeeds too', { output: again.output });

  const missing = await runCli(cli.path, withFlag(argv, '--namespace', `${namespace}-missing`));
  t.not(missing.code, 0, 'an unknown namespace fails the step (api and worker would not start)');
  t.match(missing.output, /not found/i, 'and says why');
});

function runShell(script: string, path: string): Promise<{ code: number | null; output: string }> {
  return runCliWithEnv('/bin/sh', ['-euc', script], { ...process.env, PATH: path });
}

function runCliWithEnv(path: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

t.test('the namespace step against a real Temporal: creates the namespace, then leaves it be, and fails loudly', async (t) => {
  const [temporal, cli] = await Promise.all([startTestTemporal(t), resolveTemporalCli()]);
  // The container's `temporal` on PATH; a namespace of its own instead of `default`.
  const bin = t.testdir();
  await symlink(cli.path, join(bin, 'temporal'));
  const path = `${bin}:${process.env.PATH ?? ''}`;
  const namespace = `compose-ns-${randomBytes(4).toString('hex')}`;
  const script = shellStep('temporal-namespace');
  t.match(script, /--namespace default\b/, 'the step creates `default`');
  const against = (address: string) =>
    script.replaceAll('temporal:7233', address).replaceAll('--namespace default', `--namespace ${namespace}`);

  const first = await runShell(against(temporal.address), path);
  t.equal(first.code, 0, 'first `up`: created', { output: first.output });
  const described = await temporal.connection.workflowService.describeNamespace({ namespace });
  t.equal(described.config?.workflowExecutionRetentionTtl?.seconds?.toString(), String(24 * 3600), 'with 1 day retention');
  const again = await runShell(against(temporal.address), path);
  t.equal(again.code, 0, 'a second `up` (namespace already there) succeeds too', { output: again.output });

  // No frontend: the step gives up after its wait (shortened here) and exits non-zero.
  const unreachable = await runShell(against(`127.0.0.1:${await pickFreePort()}`).replace('seq 30', 'seq 2'), path);
  t.not(unreachable.code, 0, 'an unreachable cluster fails the step (search attributes, api and worker would not start)');
});
