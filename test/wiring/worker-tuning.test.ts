// The worker's sticky workflow cache is bounded by configuration: unbounded (the SDK sizes it
// from the heap, ~2,300 on a 4 GiB heap) its memory grows with open verifications. The default is
// the measured one (README "Worker memory"); an override is honoured, and a value the SDK would
// silently change is refused with one line naming the variable.
import t from 'tap';
import { parseEnv, workerTuningFromEnv } from '../../config/env.ts';
import { refusal } from '../helpers/config-refusal.ts';

const PRODUCTION = {
  PAYLOAD_ENCRYPTION_KEYS: `v1:${Buffer.alloc(32, 7).toString('base64')}`,
  DATABASE_URL: 'postgres://veriflow:secret@db:5432/veriflow',
  PUBLIC_BASE_URL: 'https://verify.example.com',
};

t.test('WORKER_MAX_CACHED_WORKFLOWS: a measured default bounds the cache', async (t) => {
  t.equal(workerTuningFromEnv(parseEnv({})).maxCachedWorkflows, 100, 'the default');
  t.equal(workerTuningFromEnv(parseEnv({ NODE_ENV: 'production', ...PRODUCTION })).maxCachedWorkflows, 100, 'in production too');
});

t.test('WORKER_MAX_CACHED_WORKFLOWS: an override is honoured, 0 turns the cache off', async (t) => {
  t.equal(workerTuningFromEnv(parseEnv({ WORKER_MAX_CACHED_WORKFLOWS: '2000' })).maxCachedWorkflows, 2000);
  t.equal(
    workerTuningFromEnv(parseEnv({ WORKER_MAX_CACHED_WORKFLOWS: '8', WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '8' })).maxCachedWorkflows,
    8,
    'as small as the workflow task concurrency',
  );
  t.equal(workerTuningFromEnv(parseEnv({ WORKER_MAX_CACHED_WORKFLOWS: '0' })).maxCachedWorkflows, 0);
});

t.test('WORKER_MAX_CACHED_WORKFLOWS: bad values are refused, naming the variable', async (t) => {
  for (const bad of ['-1', 'lots', '500MB'])
    t.match(refusal({ WORKER_MAX_CACHED_WORKFLOWS: bad }), /^Invalid configuration:\n {2}WORKER_MAX_CACHED_WORKFLOWS: /, bad);
  // The SDK would lower the task concurrency to the cache size with a warning nobody reads.
  const below = refusal({ WORKER_MAX_CACHED_WORKFLOWS: '10' });
  t.match(below, /WORKER_MAX_CACHED_WORKFLOWS: 10 is below WORKER_MAX_CONCURRENT_WORKFLOW_TASKS \(40\)/);
  t.equal(refusal({ WORKER_MAX_CACHED_WORKFLOWS: '10', WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '10' }), '(accepted)');
});

// The SDK's per-promise stack capture costs 40–55% of workflow CPU (bench/replay-cost.ts).
t.test('WORKFLOW_STACK_TRACES: off in production, on elsewhere, either when set; bad values refused', async (t) => {
  t.equal(workerTuningFromEnv(parseEnv({})).workflowStackTraces, true, 'on in development');
  t.equal(workerTuningFromEnv(parseEnv({ NODE_ENV: 'production', ...PRODUCTION })).workflowStackTraces, false, 'off in production');
  t.equal(
    workerTuningFromEnv(parseEnv({ NODE_ENV: 'production', ...PRODUCTION, WORKFLOW_STACK_TRACES: 'on' })).workflowStackTraces,
    true,
    'on in production when asked',
  );
  t.equal(workerTuningFromEnv(parseEnv({ WORKFLOW_STACK_TRACES: 'off' })).workflowStackTraces, false, 'off in development when asked');
  t.match(refusal({ WORKFLOW_STACK_TRACES: 'yes' }), /^Invalid configuration:\n {2}WORKFLOW_STACK_TRACES: /);
});
