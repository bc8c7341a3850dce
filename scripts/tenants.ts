// `npm run tenants -- create <name> [--providers persona,smileid]` prints {"tenantId", "apiKey"}:
// the only time the key is shown. `list`, `revoke <key-prefix>` and
// `set-providers <name> <p1,p2|all>` manage existing ones.
import { and, eq, isNull } from 'drizzle-orm';
import { createTenant } from '../api/services/tenants.ts';
import { parseEnv } from '../config/env.ts';
import { createDatabase } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { apiKeys, tenants } from '../db/schema/index.ts';
import { PROVIDER_NAMES, isProviderName, type ProviderName } from '../domain/verification.ts';
import { runCli } from './lib/run-cli.ts';

const USAGE = 'usage: npm run tenants -- create <name> [--providers p1,p2] | list | revoke <key-prefix> | set-providers <name> <p1,p2|all>';

class UsageError extends Error {}

/** `persona,smileid` -> the list; `all` -> null (no restriction). */
function parseProviders(value: string | undefined): ProviderName[] | null {
  if (value === undefined || value === '') throw new UsageError('a provider list is required (comma-separated, or all)');
  if (value === 'all') return null;
  const names = value.split(',').map((name) => name.trim());
  const unknown = names.find((name) => !isProviderName(name));
  if (unknown !== undefined) throw new UsageError(`unknown provider '${unknown}'; known: ${PROVIDER_NAMES.join(', ')}`);
  return [...new Set(names as ProviderName[])];
}

async function main(argv: string[]): Promise<number> {
  const [command, arg] = argv;
  const env = parseEnv();
  const database = await createDatabase({ url: env.DATABASE_URL, dataDir: env.PGLITE_DIR });
  try {
    await migrateDatabase(database.db);
    const { db } = database;
    if (command === 'create' && arg) {
      const flag = argv.indexOf('--providers');
      const allowedProviders = flag === -1 ? null : parseProviders(argv[flag + 1]);
      console.log(JSON.stringify(await createTenant(db, arg, { allowedProviders })));
      return 0;
    }
    if (command === 'set-providers' && arg) {
      const allowedProviders = parseProviders(argv[2]);
      const updated = await db
        .update(tenants)
        .set({ allowedProviders })
        .where(eq(tenants.name, arg))
        .returning({ name: tenants.name, allowedProviders: tenants.allowedProviders });
      if (updated.length === 0) {
        console.error(`no tenant named '${arg}'`);
        return 1;
      }
      console.log(JSON.stringify(updated[0]));
      return 0;
    }
    if (command === 'list') {
      const rows = await db
        .select({ tenantId: tenants.id, name: tenants.name, keyPrefix: apiKeys.keyPrefix, revokedAt: apiKeys.revokedAt })
        .from(tenants)
        .leftJoin(apiKeys, eq(apiKeys.tenantId, tenants.id));
      for (const row of rows) console.log(JSON.stringify(row));
      return 0;
    }
    if (command === 'revoke' && arg) {
      const revoked = await db
        .update(apiKeys)
        .set({ revokedAt: new Date() })
        .where(and(eq(apiKeys.keyPrefix, arg), isNull(apiKeys.revokedAt)))
        .returning({ id: apiKeys.id });
      console.log(JSON.stringify({ revoked: revoked.length }));
      return revoked.length > 0 ? 0 : 1;
    }
    console.error(USAGE);
    return 2;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n${USAGE}`);
    return 2;
  } finally {
    await database.close();
  }
}

runCli(main);
