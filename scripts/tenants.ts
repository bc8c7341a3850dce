// `npm run tenants -- create <name>` prints {"tenantId", "apiKey"}: the only time the key is shown.
// `npm run tenants -- list` and `npm run tenants -- revoke <key-prefix>` manage existing ones.
import { and, eq, isNull } from 'drizzle-orm';
import { createTenant } from '../api/services/tenants.js';
import { parseEnv } from '../config/env.js';
import { createDatabase } from '../db/client.js';
import { migrateDatabase } from '../db/migrate.js';
import { apiKeys, tenants } from '../db/schema/index.js';

const USAGE = 'usage: npm run tenants -- create <name> | list | revoke <key-prefix>';

async function main(argv: string[]): Promise<number> {
  const [command, arg] = argv;
  const env = parseEnv();
  const database = await createDatabase({ url: env.DATABASE_URL, dataDir: env.PGLITE_DIR });
  try {
    await migrateDatabase(database.db);
    const { db } = database;
    if (command === 'create' && arg) {
      console.log(JSON.stringify(await createTenant(db, arg)));
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
      const revoked = await db.update(apiKeys).set({ revokedAt: new Date() }).where(and(eq(apiKeys.keyPrefix, arg), isNull(apiKeys.revokedAt))).returning({ id: apiKeys.id });
      console.log(JSON.stringify({ revoked: revoked.length }));
      return revoked.length > 0 ? 0 : 1;
    }
    console.error(USAGE);
    return 2;
  } finally {
    await database.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
