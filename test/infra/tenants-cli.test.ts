// `npm run tenants`: create prints the key once, list shows it by prefix, revoke disables it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { tenantForApiKey } from '../../api/services/tenants.js';
import { createTestDatabase } from '../helpers/database.js';

const run = promisify(execFile);

t.test('tenants CLI', async (t) => {
  const { url, db } = await createTestDatabase(t);
  const cli = (...args: string[]) => run(process.execPath, ['--import=tsx', 'scripts/tenants.ts', ...args], { env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'silent' } });

  const created = JSON.parse((await cli('create', 'acme')).stdout) as { tenantId: string; apiKey: string };
  t.match(created, { tenantId: /^[0-9a-f-]{36}$/, apiKey: /^vf_live_/ });
  t.match(await tenantForApiKey(db, created.apiKey), { id: created.tenantId, name: 'acme' }, 'the printed key authenticates');

  const listed = (await cli('list')).stdout.trim().split('\n').map((line) => JSON.parse(line) as { name: string; keyPrefix: string });
  const acme = listed.find((row) => row.name === 'acme');
  t.equal(acme?.keyPrefix, created.apiKey.slice(0, 16), 'listed by prefix, never the key');
  t.notOk((await cli('list')).stdout.includes(created.apiKey), 'the full key is never printed again');

  t.same(JSON.parse((await cli('revoke', acme!.keyPrefix)).stdout), { revoked: 1 });
  t.equal(await tenantForApiKey(db, created.apiKey), null, 'a revoked key no longer authenticates');

  const usage = await cli('frobnicate').then(() => null, (err: { code: number; stderr: string }) => err);
  t.match(usage, { code: 2, stderr: /usage: npm run tenants/ });
});
