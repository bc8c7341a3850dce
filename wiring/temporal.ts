import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Env } from '../config/env.ts';
import { getDataConverter } from './codec.ts';
import { tracingClientInterceptors } from './tracing.ts';

type TemporalEnv = Pick<Env, 'TEMPORAL_NAMESPACE' | 'TEMPORAL_API_KEY' | 'TEMPORAL_TLS' | 'NODE_ENV' | 'PAYLOAD_ENCRYPTION_KEYS'> & {
  TEMPORAL_ADDRESS: string;
};

function connectionOptions(env: TemporalEnv) {
  const tls = env.TEMPORAL_TLS || env.TEMPORAL_API_KEY !== undefined;
  return { address: env.TEMPORAL_ADDRESS, tls, ...(env.TEMPORAL_API_KEY ? { apiKey: env.TEMPORAL_API_KEY } : {}) };
}

export async function connectClient(env: TemporalEnv): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(env));
  // The worker's converter: what the client sends is encrypted, what it reads is decrypted.
  return new Client({
    connection,
    namespace: env.TEMPORAL_NAMESPACE,
    dataConverter: getDataConverter(env),
    interceptors: { workflow: tracingClientInterceptors() },
  });
}

export function connectWorker(env: TemporalEnv): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(env));
}
