// `npm run provider:sync-templates [-- <provider>]`: refresh the provider_templates cache from
// every configured template provider (IDmeta), printing progress and counts. The same sync the
// 24-hourly Temporal schedule and POST /v1/templates/sync run; this one needs no Temporal.
import { parseEnv } from '../config/env.ts';
import { createDatabase } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { syncProviderTemplates } from '../db/template-sync.ts';
import { isProviderName } from '../domain/verification.ts';
import { providersFromEnv } from '../wiring/providers.ts';
import { templateProviders } from '../wiring/schedules.ts';
import { loadDeveloperEnvFile } from './lib/env-file.ts';

function line(message: string): void {
  process.stdout.write(`${message}\n`);
}

async function main(): Promise<void> {
  loadDeveloperEnvFile();
  const env = parseEnv();
  const registry = providersFromEnv(env);
  const only = process.argv[2];
  if (only !== undefined && !isProviderName(only)) throw new Error(`Unknown provider ${only}`);
  const names = templateProviders(registry).filter((name) => only === undefined || name === only);
  if (names.length === 0) {
    line(
      only === undefined
        ? 'No template provider is configured (set IDMETA_API_KEY and IDMETA_WEBHOOK_SECRET).'
        : `${only} is not a configured template provider.`,
    );
    process.exitCode = 1;
    return;
  }
  const database = await createDatabase({ url: env.DATABASE_URL, dataDir: env.PGLITE_DIR });
  let failed = false;
  try {
    await migrateDatabase(database.db);
    for (const provider of names) {
      const steps = registry.get(provider).steps!;
      line(`• ${provider}: listing templates at ${provider === 'idmeta' ? env.IDMETA_API_URL : 'the provider'}…`);
      try {
        const summary = await syncProviderTemplates(database.db, {
          provider,
          listTemplates: () =>
            steps.listTemplates({
              onPage: ({ page, pages, fetched, total }) =>
                line(`  page ${page}/${pages}: ${fetched}${total === null ? '' : `/${total}`} templates`),
            }),
        });
        line(`✓ ${provider}: ${summary.synced} templates synced, ${summary.deactivated} deactivated in ${summary.durationMs} ms`);
      } catch (err) {
        failed = true;
        line(`✗ ${provider}: ${err instanceof Error ? err.message : String(err)} (the cached templates are unchanged)`);
      }
    }
  } finally {
    await database.close();
  }
  if (failed) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? `\n${err.name}: ${err.message}` : err);
  process.exit(1);
});
