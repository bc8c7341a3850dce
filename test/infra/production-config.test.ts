// Production refuses to start on configuration that would otherwise fail quietly later: the API
// on an embedded database the worker cannot see, SmileID told to call back 127.0.0.1, a provider
// silently off because one of its two secrets is missing. One line names the variable.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { refusal } from '../helpers/config-refusal.ts';
import { defaultPromotion } from '../../wiring/worker-deployment.ts';

const PRODUCTION = {
  NODE_ENV: 'production',
  PAYLOAD_ENCRYPTION_KEYS: `v1:${Buffer.alloc(32, 7).toString('base64')}`,
  DATABASE_URL: 'postgres://veriflow:secret@db:5432/veriflow',
  PUBLIC_BASE_URL: 'https://verify.example.com',
  TEMPORAL_ADDRESS: '127.0.0.1:1',
};

function without<T extends Record<string, string>>(env: T, key: keyof T): Record<string, string> {
  const { [key]: _dropped, ...rest } = env;
  return rest;
}

t.test('a complete production configuration is accepted', async (t) => {
  t.equal(refusal(PRODUCTION), '(accepted)');
  t.equal(
    refusal({ ...PRODUCTION, PERSONA_API_KEY: 'persona_live', PERSONA_WEBHOOK_SECRET: 'wbhsec_live' }),
    '(accepted)',
    'a provider with both secrets',
  );
});

t.test('tracing: OTEL_EXPORTER_OTLP_ENDPOINT is optional and must be an http(s) URL', async (t) => {
  t.equal(refusal({ ...PRODUCTION, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318', OTEL_SERVICE_NAME: 'api-eu' }), '(accepted)');
  t.match(refusal({ ...PRODUCTION, OTEL_EXPORTER_OTLP_ENDPOINT: 'otel-collector:4318' }), /OTEL_EXPORTER_OTLP_ENDPOINT/);
});

t.test('a value of the wrong shape is refused with what the variable expects, not the pattern that checks it', async (t) => {
  const refused = refusal({ PROVIDER_READS_PER_SECOND_BY_PROVIDER: 'stripe=0' });
  t.match(
    refused,
    /PROVIDER_READS_PER_SECOND_BY_PROVIDER: expected PROVIDER_READS_PER_SECOND for some providers, e\.g\. `stripe=25,persona=5`/,
  );
  t.notMatch(refused, /\^|\\s\*/, 'no regular expression in the message');
  t.match(refusal({ OUTBOUND_RETRY_SCHEDULE: 'soon' }), /OUTBOUND_RETRY_SCHEDULE: expected Outbound webhook retries/);
});

t.test('production without DATABASE_URL or PUBLIC_BASE_URL: one line naming the variable and what to set', async (t) => {
  const noDatabase = refusal(without(PRODUCTION, 'DATABASE_URL'));
  t.match(noDatabase, /^Invalid configuration: DATABASE_URL: required in production .*postgres:\/\//);
  t.notMatch(noDatabase, /\n/, 'one line');
  const noBaseUrl = refusal(without(PRODUCTION, 'PUBLIC_BASE_URL'));
  t.match(noBaseUrl, /^Invalid configuration: PUBLIC_BASE_URL: required in production .*https:\/\//);
  t.notMatch(noBaseUrl, /\n/, 'one line');
});

t.test('production with half a provider: the missing variable is named, whichever half is missing', async (t) => {
  const pairs: [string, string][] = [
    ['PERSONA_API_KEY', 'PERSONA_WEBHOOK_SECRET'],
    ['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET'],
    ['IDMETA_API_KEY', 'IDMETA_WEBHOOK_SECRET'],
    ['SMILEID_PARTNER_ID', 'SMILEID_API_KEY'],
  ];
  for (const [a, b] of pairs) {
    for (const [set, missing] of [
      [a, b],
      [b, a],
    ] as const) {
      const message = refusal({ ...PRODUCTION, VERIFLOW_LINK_SECRET: 'a-long-random-link-secret', [set]: 'value' });
      t.match(
        message,
        new RegExp(`^Invalid configuration: ${missing}: required in production when ${set} is set`),
        `${set} without ${missing}`,
      );
      t.notMatch(message, /\n/, 'one line');
    }
  }
});

t.test('outside production the dev defaults still apply', async (t) => {
  t.equal(refusal({ NODE_ENV: 'development' }), '(accepted)');
  t.equal(refusal({ NODE_ENV: 'test', PERSONA_API_KEY: 'only-a-key' }), '(accepted)');
});

t.test('worker versioning: a build id the server accepts, and who promotes a build is explicit per environment', async (t) => {
  t.equal(refusal({ ...PRODUCTION, WORKER_BUILD_ID: '2026-12-02_a1b2c3' }), '(accepted)');
  t.match(refusal({ ...PRODUCTION, WORKER_BUILD_ID: 'v1.2 beta' }), /WORKER_BUILD_ID/, 'dots and spaces refused');
  t.match(refusal({ ...PRODUCTION, WORKER_VERSION_PROMOTION: 'sometimes' }), /WORKER_VERSION_PROMOTION/);
  t.equal(refusal({ ...PRODUCTION, WORKER_VERSION_PROMOTION: 'never' }), '(accepted)');
  t.equal(defaultPromotion('production'), 'initial', 'production: only a first deploy promotes itself');
  t.equal(defaultPromotion('development'), 'always', 'dev: the newest worker start wins');
  t.equal(defaultPromotion('test'), 'always');
});

const ENTRIES = {
  api: fileURLToPath(new URL('../../api/server.ts', import.meta.url)),
  worker: fileURLToPath(new URL('../../worker.ts', import.meta.url)),
};

function run(entry: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  // Only what the test gives: nothing from this shell's environment may complete the configuration.
  const child = spawn(process.execPath, [entry], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr, stdout })));
}

t.test('the API and worker entries exit 1 with that one line', async (t) => {
  const api = await run(ENTRIES.api, without(PRODUCTION, 'DATABASE_URL'));
  t.equal(api.code, 1, 'API exit code');
  t.match(api.stderr, /^Invalid configuration: DATABASE_URL: required in production [^\n]*\n$/, `API stderr: ${api.stderr.slice(0, 300)}`);
  const worker = await run(ENTRIES.worker, { ...PRODUCTION, IDMETA_API_KEY: 'idmeta_live' });
  t.equal(worker.code, 1, 'worker exit code');
  t.match(
    worker.stderr,
    /^Invalid configuration: IDMETA_WEBHOOK_SECRET: required in production when IDMETA_API_KEY is set[^\n]*\n$/,
    `worker stderr: ${worker.stderr.slice(0, 300)}`,
  );
});

t.test('a production worker whose heap cannot hold its workflow cache refuses to start, saying what to change', async (t) => {
  // 5,000 cached verifications in a 512 MB heap (ample for starting, which a tight limit is not
  // under coverage): the workflow thread would run out of heap once the cache filled.
  const worker = await run(ENTRIES.worker, {
    ...PRODUCTION,
    NODE_OPTIONS: '--max-old-space-size=512',
    WORKER_MAX_CACHED_WORKFLOWS: '5000',
  });
  t.equal(worker.code, 1, 'worker exit code');
  t.match(
    worker.stderr,
    /^Invalid configuration: WORKER_MAX_CACHED_WORKFLOWS: 5000 cached verifications need about 2014 MB of heap per workflow thread; this worker's limit is \d+ MB \(--max-old-space-size\)\. Raise the limit to at least 2014 MB, or lower WORKER_MAX_CACHED_WORKFLOWS to \d+\.\n$/,
    `worker stderr: ${worker.stderr.slice(0, 400)}`,
  );
  // The default cache in the heap production gives the worker (npm run start:worker, compose) passes this check.
  const fits = await run(ENTRIES.worker, { ...PRODUCTION, NODE_OPTIONS: '--max-old-space-size=128 --max-semi-space-size=16' });
  t.notMatch(fits.stderr, /WORKER_MAX_CACHED_WORKFLOWS/, `worker stderr: ${fits.stderr.slice(0, 400)}`);
});
