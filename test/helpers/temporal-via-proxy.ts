// The API's view of Temporal through a proxy the test can stall, while the worker (given the
// plain `temporal`) goes straight to it: workflows keep running whatever the API sees.
import { Client, Connection, type WorkflowClientInterceptor } from '@temporalio/client';
import type { Test } from 'tap';
import { parseEnv } from '../../config/env.ts';
import { getDataConverter } from '../../wiring/codec.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';
import { startTestTemporal, type TestTemporal } from './temporal.ts';

export async function startTemporalViaProxy(
  t: Test,
  { interceptors = [] }: { interceptors?: WorkflowClientInterceptor[] } = {},
): Promise<{ temporal: TestTemporal; proxy: TcpProxy; apiTemporal: TestTemporal }> {
  const temporal = await startTestTemporal(t);
  const [host, port] = temporal.address.split(':');
  const proxy = await startTcpProxy(t, { host: host!, port: Number(port) });
  const connection = await Connection.connect({ address: `127.0.0.1:${proxy.port}` });
  t.teardown(() => connection.close());
  const client = new Client({
    connection,
    namespace: temporal.namespace,
    dataConverter: getDataConverter(parseEnv()),
    interceptors: { workflow: interceptors },
  });
  return { temporal, proxy, apiTemporal: { ...temporal, client } };
}
