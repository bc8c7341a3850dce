// `npm run temporal:server:install`: find or build the Temporal server and its SQL tool and print
// their paths, so the slow first build happens at setup time rather than inside `npm run test:cluster`.
import { resolveTemporalServer, TemporalServerError } from './lib/temporal-server.js';

const USAGE = 'Usage: tsx scripts/temporal-server.ts install';

async function main(command: string | undefined): Promise<number> {
  if (command !== 'install') {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  try {
    const { server, sqlTool } = await resolveTemporalServer();
    process.stdout.write(`${server.path}\n${sqlTool.path}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof TemporalServerError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv[2]);
