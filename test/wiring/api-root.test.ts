// The API composition root closes what it opened itself and leaves open what its caller handed it
// (npm run dev and the test stack hand it their database and Temporal client and close them later).
import { Client, Connection } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { parseEnv } from '../../config/env.ts';
import { composeApi } from '../../wiring/api-root.ts';
import { createTestDatabase } from '../helpers/database.ts';

function lazyTemporal(t: Pick<Test, 'teardown'>): Client {
  const connection = Connection.lazy({ address: '127.0.0.1:1' });
  t.teardown(() => connection.close());
  return new Client({ connection });
}

const quiet = pino({ level: 'silent' });

t.test('a database the root opened is closed with it; one it was given stays open', async (t) => {
  const testDb = await createTestDatabase(t);
  const env = parseEnv({ NODE_ENV: 'test', DATABASE_URL: testDb.url });
  const common = { logger: quiet, temporal: lazyTemporal(t), sweeper: false, listen: false };

  const owning = await composeApi(env, common);
  t.equal((await owning.app.inject({ method: 'GET', url: '/health/live' })).statusCode, 200, 'the app answers');
  await owning.close();
  await t.rejects(owning.database.db.execute(sql`select 1`), 'its own database is closed');

  const borrowing = await composeApi(env, { ...common, database: testDb.handle });
  t.equal(borrowing.database, testDb.handle, 'the given database is used');
  await borrowing.close();
  await t.resolves(testDb.db.execute(sql`select 1`), 'the given database is still open');
});
