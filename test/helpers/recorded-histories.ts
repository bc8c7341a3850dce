// The recorded workflow histories (test/fixtures/histories, made by test/replay/record-histories.ts)
// and the options a replay of them needs: the same bundle, data converter and sinks as the worker.
import { readdir, readFile } from 'node:fs/promises';
import type { ReplayWorkerOptions } from '@temporalio/worker';
import { getDataConverter } from '../../wiring/codec.ts';
import { parseEnv } from '../../config/env.ts';
import { tracingSinks } from '../../wiring/tracing.ts';
import { workflowBundle } from './stack.ts';

const HISTORIES = new URL('../fixtures/histories/', import.meta.url);

export interface RecordedHistory {
  workflowId: string;
  history: { events: { eventType: string }[] };
}

/** Every recorded history, in file-name order; the workflow id is the file's name. */
export async function loadRecordedHistories(): Promise<RecordedHistory[]> {
  const files = (await readdir(HISTORIES)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => ({
      workflowId: file.replace(/\.json$/, ''),
      history: JSON.parse(await readFile(new URL(file, HISTORIES), 'utf8')),
    })),
  );
}

/**
 * Histories recorded since payload encryption are ciphertext: replay decrypts with the dev key
 * ring. The bundle's tracing interceptors export workflow spans through a sink, as on the worker.
 */
export async function replayWorkerOptions(): Promise<ReplayWorkerOptions> {
  return { workflowBundle: await workflowBundle(), dataConverter: getDataConverter(parseEnv()), sinks: tracingSinks() };
}
