// `npm run tenants`: create prints the key once, list shows it by prefix, revoke disables it,
// --providers / set-providers restrict the providers a tenant may use.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { tenantForApiKey } from '../../api/services/tenants.ts';
import { createTestDatabase } from '../helpers/database.ts';

const run = promisify(execFile);

t.test('tenants CLI', async (t) => {
  const { url, db } = await createTestDatabase(t);
  const cli = (...args: string[]) =>
    run(process.execPath, ['scripts/tenants.ts', ...args], {
      env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'silent' },
    });

  const created = JSON.parse((await cli('create', 'acme')).stdout) as { tenantId: string; apiKey: string };
  t.match(created, { tenantId: /^[0-9a-f-]{36}$/, apiKey: /^vf_live_/ });
  t.match(await tenantForApiKey(db, created.apiKey), { id: created.tenantId, name: 'acme' }, 'the printed key authenticates');

  const listed = (await cli('list')).stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { name: string; keyPrefix: string });
  const acme = listed.find((row) => row.name === 'acme');
  t.equal(acme?.keyPrefix, created.apiKey.slice(0, 16), 'listed by prefix, never the key');
  t.notOk((await cli('list')).stdout.includes(created.apiKey), 'the full key is never printed again');

  t.same(JSON.parse((await cli('revoke', acme!.keyPrefix)).stdout), { revoked: 1 });
  t.equal(await tenantForApiKey(db, created.apiKey), null, 'a revoked key no longer authenticates');

  const restricted = JSON.parse((await cli('create', 'persona-shop', '--providers', 'persona,smileid')).stdout) as { apiKey: string };
  t.match(
    await tenantForApiKey(db, restricted.apiKey),
    { name: 'persona-shop', allowedProviders: ['persona', 'smileid'] },
    'create --providers stores the list',
  );
  t.same(JSON.parse((await cli('set-providers', 'persona-shop', 'stripe')).stdout), { name: 'persona-shop', allowedProviders: ['stripe'] });
  t.match(await tenantForApiKey(db, restricted.apiKey), { allowedProviders: ['stripe'] }, 'set-providers replaces the list');
  t.same(JSON.parse((await cli('set-providers', 'persona-shop', 'all')).stdout), { name: 'persona-shop', allowedProviders: null });
  t.match(await tenantForApiKey(db, restricted.apiKey), { allowedProviders: null }, "'all' lifts the restriction");
  const unknown = await cli('set-providers', 'persona-shop', 'persona,acme').then(
    () => null,
    (err: { code: number; stderr: string }) => err,
  );
  t.match(unknown, { code: 2, stderr: /unknown provider 'acme'/ }, 'an unknown provider name is refused');
  const missing = await cli('set-providers', 'nobody', 'persona').then(
    () => null,
    (err: { code: number; stderr: string }) => err,
  );
  t.match(missing, { code: 1, stderr: /no tenant named 'nobody'/ });

  const usage = await cli('frobnicate').then(
    () => null,
    (err: { code: number; stderr: string }) => err,
  );
  t.match(usage, { code: 2, stderr: /usage: npm run tenants/ });
});
