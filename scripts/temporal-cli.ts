// `npm run temporal:install`: find or build the Temporal CLI and print its path, so the slow
// first build happens at setup time rather than inside the first test run.
import { resolveTemporalCli, TemporalCliError } from './lib/temporal-cli.js';

const USAGE = 'Usage: tsx scripts/temporal-cli.ts install';

async function main(command: string | undefined): Promise<number> {
  if (command !== 'install') {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  try {
    const cli = await resolveTemporalCli();
    process.stdout.write(`${cli.path}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof TemporalCliError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv[2]);
