import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Env } from '../config/env.js';

type TemporalEnv = Pick<Env, 'TEMPORAL_NAMESPACE' | 'TEMPORAL_API_KEY' | 'TEMPORAL_TLS'> & { TEMPORAL_ADDRESS: string };

function connectionOptions(env: TemporalEnv) {
  const tls = env.TEMPORAL_TLS || env.TEMPORAL_API_KEY !== undefined;
  return { address: env.TEMPORAL_ADDRESS, tls, ...(env.TEMPORAL_API_KEY ? { apiKey: env.TEMPORAL_API_KEY } : {}) };
}

export async function connectClient(env: TemporalEnv): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(env));
  return new Client({ connection, namespace: env.TEMPORAL_NAMESPACE });
}

export function connectWorker(env: TemporalEnv): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(env));
}
