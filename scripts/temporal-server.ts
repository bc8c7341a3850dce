// `npm run temporal:server:install`: find or build the Temporal server and its SQL tool and print
// their paths, so the slow first build happens at setup time rather than inside `npm run test:cluster`.
import { installCommand } from './lib/go-tool.ts';
import { resolveTemporalServer, TemporalServerError } from './lib/temporal-server.ts';

process.exitCode = await installCommand(process.argv[2], {
  usage: 'Usage: node scripts/temporal-server.ts install',
  resolvePaths: async () => {
    const { server, sqlTool } = await resolveTemporalServer();
    return [server.path, sqlTool.path];
  },
  failure: TemporalServerError,
});
