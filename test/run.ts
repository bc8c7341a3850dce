// `npm test`: one in-memory Temporal dev server for the whole run, then tap on it (arguments pass
// through). Starting a server per file cost every integration file seconds of start and stop and
// a server idling beside it. Files reach the server through TEMPORAL_TEST_ADDRESS and each works
// in a namespace of its own (TEMPORAL_TEST_NAMESPACE_PER_FILE, test/helpers/temporal.ts), since
// tap runs two at a time; a file that restarts its server still starts its own
// (test/helpers/restartable-temporal.ts). `npx tap <file>` alone falls back to a server per file.
import { startTemporalDevServer } from '../scripts/lib/temporal-dev-server.ts';
import { runTap } from './helpers/run-tap.ts';

const server = await startTemporalDevServer({ dbFile: null, uiPort: null });
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    server.kill();
    process.exit(130);
  });
try {
  const { code } = await runTap(process.argv.slice(2), {
    TEMPORAL_TEST_ADDRESS: server.address,
    TEMPORAL_TEST_NAMESPACE_PER_FILE: '1',
    // The CLIs and dev stacks tests start read no .env of the checkout (scripts/lib/env-file.ts).
    VERIFLOW_ENV_FILE: '',
  });
  process.exitCode = code;
} finally {
  await server.stop();
}
