// The server `npm run test:cluster` runs against is the production shape, not the dev server:
// Temporal of the compose version, its four services heartbeating in PostgreSQL, the `default`
// namespace stored there, and veriflow's search attributes registered.
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import postgres from 'postgres';
import t from 'tap';
import { VERIFICATION_SEARCH_ATTRIBUTES } from '../../scripts/lib/temporal-dev-server.ts';
import { TEMPORAL_SERVER_VERSION } from '../../scripts/lib/temporal-server.ts';

const address = process.env.TEMPORAL_TEST_ADDRESS;
const databaseUrl = process.env.TEMPORAL_TEST_CLUSTER_DATABASE_URL;

t.test('the cluster: PostgreSQL persistence, four services, namespace and search attributes', async (t) => {
  if (!address || !databaseUrl)
    throw new Error(
      'run through `npm run test:cluster`: TEMPORAL_TEST_ADDRESS and TEMPORAL_TEST_CLUSTER_DATABASE_URL are set by test/cluster/run.ts',
    );
  const connection = await Connection.connect({ address });
  t.teardown(() => connection.close());
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  t.teardown(() => sql.end());

  const info = await connection.workflowService.getSystemInfo({});
  t.equal(`v${info.serverVersion}`, TEMPORAL_SERVER_VERSION, 'the server version compose pins');

  const roles = await sql<
    { role: number }[]
  >`select distinct role from cluster_membership where last_heartbeat > now() - interval '1 minute' order by role`;
  t.equal(roles.length, 4, `frontend, history, matching and worker heartbeat in PostgreSQL (roles ${roles.map((r) => r.role).join(',')})`);
  const namespaces = await sql<{ name: string }[]>`select name from namespaces where name = 'default'`;
  t.equal(namespaces.length, 1, 'namespace default is stored in the persistence database');

  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
  for (const name of Object.keys(VERIFICATION_SEARCH_ATTRIBUTES)) {
    t.equal(
      customAttributes?.[name],
      proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      `${name} registered as Keyword`,
    );
  }
});
