// Production API entry: connects to Postgres and an existing Temporal cluster, listens, and
// closes gracefully (in-flight requests and the dispatch pass under way finish first). The wiring is
// wiring/api-root.ts; this entry checks the configuration, traces, and exits with grace.
import { fileURLToPath } from 'node:url';
import { InvalidConfigError, parseEnv, shutdownDeadlineMs } from '../config/env.ts';
import { composeApi } from '../wiring/api-root.ts';
import { exitGracefullyOnSignal } from '../wiring/graceful-exit.ts';
import { startTracingFromEnv, stopTracing } from '../wiring/tracing.ts';

async function main(): Promise<void> {
  const env = parseEnv();
  if (!env.TEMPORAL_ADDRESS)
    throw new Error('TEMPORAL_ADDRESS is not set: the standalone API needs a Temporal server (npm run dev starts one for you).');
  startTracingFromEnv(env, 'veriflow-api');
  const api = await composeApi(env);
  exitGracefullyOnSignal({ deadlineMs: shutdownDeadlineMs(env), logger: api.logger }, async () => {
    await api.close();
    await stopTracing();
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    // A configuration error is for the operator: its one line says what to set, a stack adds nothing.
    console.error(err instanceof InvalidConfigError ? err.message : err);
    process.exit(1);
  });
}
