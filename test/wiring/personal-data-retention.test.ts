// RETENTION_PERSONAL_DATA: parsed once, listed in .env.example, and turned into the sweep's pace;
// the erasure route documented in the served OpenAPI document.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { EnvSchema, InvalidConfigError, parseEnv, personalDataRetentionMs } from '../../config/env.ts';
import { retentionSweepIntervalMs } from '../../wiring/schedules.ts';
import { buildTestApp } from '../helpers/app.ts';
import { createTestDatabase } from '../helpers/database.ts';

const DAY = 86_400_000;

t.test('RETENTION_PERSONAL_DATA: unset keeps personal data; a duration erases after the decision', async (t) => {
  t.equal(personalDataRetentionMs(parseEnv({ NODE_ENV: 'test' })), null, 'unset: kept');
  t.equal(personalDataRetentionMs(parseEnv({ NODE_ENV: 'test', RETENTION_PERSONAL_DATA: '' })), null, 'empty: kept');
  t.equal(personalDataRetentionMs(parseEnv({ NODE_ENV: 'test', RETENTION_PERSONAL_DATA: '90d' })), 90 * DAY);
  t.equal(personalDataRetentionMs(parseEnv({ NODE_ENV: 'test', RETENTION_PERSONAL_DATA: '2s' })), 2000);
  t.throws(() => parseEnv({ NODE_ENV: 'test', RETENTION_PERSONAL_DATA: 'forever' }), InvalidConfigError);
  t.ok(EnvSchema.properties.RETENTION_PERSONAL_DATA.description, 'described');
  const example = readFileSync(fileURLToPath(new URL('../../.env.example', import.meta.url)), 'utf8');
  t.match(example, /^RETENTION_PERSONAL_DATA=$/m, 'listed in .env.example, unset by default');
});

t.test('the retention sweep runs a tenth of the retention apart, between 1 s and 1 h', async (t) => {
  t.equal(retentionSweepIntervalMs(90 * DAY), 3_600_000);
  t.equal(retentionSweepIntervalMs(2000), 1000);
  t.equal(retentionSweepIntervalMs(5 * 60_000), 30_000);
});

t.test('OpenAPI documents the erasure route and its record', async (t) => {
  const db = await createTestDatabase(t);
  const app = await buildTestApp(t, db, {});
  const openapi = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
  const erase = openapi.paths['/v1/verifications/{id}/personal-data']?.delete;
  t.ok(erase?.description?.includes('Idempotent'), 'DELETE documented, idempotency said');
  t.same(
    Object.keys(erase.responses['200'].content['application/json'].schema.properties).sort(),
    ['apiKeyPrefix', 'erasedAt', 'erasedBy', 'verificationId'],
    'the erasure record',
  );
  t.same(Object.keys(erase.responses).sort(), ['200', '400', '401', '404', '503']);
});
