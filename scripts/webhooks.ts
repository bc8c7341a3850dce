// Stored provider webhooks the sweeper gave up on (outcome `undeliverable`, the reason in
// error_message). `npm run webhooks -- undeliverable` lists them, one JSON line each;
// `npm run webhooks -- redrive <id>… | --all` puts them back in the sweeper's queue after the repair.
import { listUndeliverable, redriveUndeliverable } from '../api/services/undeliverable-webhooks.ts';
import { parseEnv } from '../config/env.ts';
import { createDatabase } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { providersFromEnv } from '../wiring/providers.ts';
import { runCli } from './lib/run-cli.ts';

const USAGE = 'usage: npm run webhooks -- undeliverable | redrive <id>… | redrive --all';

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  const env = parseEnv();
  const database = await createDatabase({ url: env.DATABASE_URL, dataDir: env.PGLITE_DIR });
  try {
    await migrateDatabase(database.db);
    if (command === 'undeliverable' && args.length === 0) {
      for (const row of await listUndeliverable(database.db)) console.log(JSON.stringify(row));
      return 0;
    }
    if (command === 'redrive' && args.length > 0) {
      const result = await redriveUndeliverable(database.db, providersFromEnv(env), args.includes('--all') ? 'all' : args);
      console.log(JSON.stringify(result));
      return result.skipped.length > 0 ? 1 : 0;
    }
    console.error(USAGE);
    return 2;
  } finally {
    await database.close();
  }
}

runCli(main);
