// Replays recorded histories (test/fixtures/histories, made by record-histories.ts) against the
// current workflow code: a change that would break running verifications fails here as
// non-determinism instead of in production.
import { readdir, readFile } from 'node:fs/promises';
import { Worker } from '@temporalio/worker';
import t from 'tap';
import { getDataConverter } from '../../wiring/codec.ts';
import { parseEnv } from '../../config/env.ts';
import { tracingSinks } from '../../wiring/tracing.ts';
import { workflowBundle } from '../helpers/stack.ts';

const dir = new URL('../fixtures/histories/', import.meta.url);

t.test('recorded workflow histories replay deterministically', async (t) => {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  t.ok(files.length >= 8, `${files.length} recorded histories`);
  const histories = await Promise.all(
    files.map(async (file) => ({
      workflowId: file.replace(/\.json$/, ''),
      history: JSON.parse(await readFile(new URL(file, dir), 'utf8')),
    })),
  );
  const replayed: string[] = [];
  // Histories recorded since payload encryption are ciphertext: replay decrypts with the dev key ring.
  for await (const result of Worker.runReplayHistories(
    // The bundle's tracing interceptors export workflow spans through a sink, as on the worker.
    { workflowBundle: await workflowBundle(), dataConverter: getDataConverter(parseEnv()), sinks: tracingSinks() },
    histories,
  )) {
    t.equal(result.error, undefined, `${result.workflowId} replays`, result.error ? { error: String(result.error) } : {});
    replayed.push(result.workflowId);
  }
  t.same(replayed.sort(), histories.map((h) => h.workflowId).sort(), 'every history was replayed');
});
