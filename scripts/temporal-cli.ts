// `npm run temporal:install`: find or build the Temporal CLI and print its path, so the slow
// first build happens at setup time rather than inside the first test run.
import { installCommand } from './lib/go-tool.ts';
import { resolveTemporalCli, TemporalCliError } from './lib/temporal-cli.ts';

process.exitCode = await installCommand(process.argv[2], {
  usage: 'Usage: node scripts/temporal-cli.ts install',
  resolvePaths: async () => [(await resolveTemporalCli()).path],
  failure: TemporalCliError,
});
