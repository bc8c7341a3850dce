// A real Temporal cluster on PostgreSQL, as production runs it (not the dev server's SQLite):
// two databases of its own, schemas set up and updated by Temporal's SQL tool, the four services
// (frontend, history, matching, worker) in one server process on loopback ports, the `default`
// namespace and veriflow's search attributes registered through the API. The process can be
// stopped and started again on the same databases and ports, as after a crash or a deploy.

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import postgres from 'postgres';
import { SERVER_DYNAMIC_CONFIG, VERIFICATION_SEARCH_ATTRIBUTES, exitOf, pickFreePorts, terminate } from './temporal-dev-server.ts';
import { withParentDeathSignal } from './parent-death-signal.ts';
import { resolveTemporalServer, type TemporalServerBinaries } from './temporal-server.ts';

const HOST = '127.0.0.1';
const NAMESPACE = 'default';
const NAMESPACE_RETENTION = '1 day';
const READY_TIMEOUT_MS = 120_000;
/** The server drains its services on SIGTERM; past this it is killed. */
const STOP_GRACE_MS = 30_000;
const LOG_TAIL_LINES = 30;
const INDEXED_VALUE_TYPES: Record<string, proto.temporal.api.enums.v1.IndexedValueType> = {
  Keyword: proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
};

export const DEFAULT_CLUSTER_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export class TemporalClusterError extends Error {
  readonly code = 'VF_TEMPORAL_CLUSTER';
  override readonly name = 'TemporalClusterError';
}

export interface TemporalClusterOptions {
  /** An admin connection to the PostgreSQL that will hold the cluster's two databases. Default TEMPORAL_CLUSTER_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432/postgres. */
  postgresUrl?: string;
  /** Databases vf_temporal_<suffix> and vf_temporal_visibility_<suffix>; random when omitted. */
  suffix?: string;
  numHistoryShards?: number;
  /** The server's log level (its log goes to a file in the config dir). */
  logLevel?: string;
  binaries?: TemporalServerBinaries;
  log?: (line: string) => void;
}

export interface TemporalClusterTimings {
  schemaMs: number;
  /** Process start until frontend, namespace and search attributes answer. */
  startMs: number;
}

export interface TemporalCluster {
  /** host:port of the frontend, for `Connection.connect({ address })`. */
  address: string;
  databases: { persistence: string; visibility: string };
  /** The admin URL the databases were created through. */
  postgresUrl: string;
  configDir: string;
  timings: TemporalClusterTimings;
  /** Stops the server process (SIGTERM, then SIGKILL); the databases stay. Idempotent. */
  stopServer(): Promise<void>;
  /** Starts the server again on the same databases and ports; resolves once it answers. */
  startServer(): Promise<void>;
  /** SIGKILL the server process (a crash, not a shutdown). */
  killServer(): Promise<void>;
  /** Stops the server and drops its databases and config dir. */
  destroy(): Promise<void>;
}

export async function startTemporalCluster(options: TemporalClusterOptions = {}): Promise<TemporalCluster> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const binaries = options.binaries ?? (await resolveTemporalServer({ log }));
  const postgresUrl = options.postgresUrl ?? process.env.TEMPORAL_CLUSTER_POSTGRES_URL ?? DEFAULT_CLUSTER_POSTGRES_URL;
  const suffix = options.suffix ?? randomBytes(4).toString('hex');
  const databases = { persistence: `vf_temporal_${suffix}`, visibility: `vf_temporal_visibility_${suffix}` };
  const configDir = await mkdtemp(join(tmpdir(), 'vf-temporal-cluster-'));

  const schemaStarted = Date.now();
  await createDatabases(postgresUrl, databases);
  const dropAll = async () => {
    await dropDatabases(postgresUrl, databases);
    await rm(configDir, { recursive: true, force: true });
  };
  let server: ServerProcess | null = null;
  try {
    await setUpSchema(binaries.sqlTool.path, postgresUrl, databases.persistence, 'postgresql/v12/temporal');
    await setUpSchema(binaries.sqlTool.path, postgresUrl, databases.visibility, 'postgresql/v12/visibility');
    const schemaMs = Date.now() - schemaStarted;

    const frontendPort = await writeConfig(configDir, postgresUrl, databases, options);
    const address = `${HOST}:${frontendPort}`;
    const startStarted = Date.now();
    const launch = async () => {
      server = await spawnServer(binaries.server.path, configDir);
      await server.ready(address);
    };
    await launch();
    await registerNamespaceAndSearchAttributes(address);
    await waitUntilServing(address, server!);
    const timings = { schemaMs, startMs: Date.now() - startStarted };
    log(
      `Temporal cluster ${address} on ${databases.persistence} + ${databases.visibility}: schemas ${schemaMs} ms, start ${timings.startMs} ms`,
    );

    const stopServer = async () => {
      const current = server;
      server = null;
      await current?.stop();
    };
    return {
      address,
      databases,
      postgresUrl,
      configDir,
      timings,
      stopServer,
      async startServer() {
        if (server) return;
        await launch();
        await waitUntilServing(address, server!);
      },
      async killServer() {
        const current = server;
        server = null;
        await current?.kill();
      },
      async destroy() {
        await stopServer();
        await dropAll();
      },
    };
  } catch (error) {
    await (server as ServerProcess | null)?.stop();
    await dropAll();
    throw error;
  }
}

async function withAdmin<T>(postgresUrl: string, run: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(postgresUrl, { max: 1, onnotice: () => {} });
  try {
    return await run(sql);
  } finally {
    await sql.end();
  }
}

async function createDatabases(postgresUrl: string, databases: { persistence: string; visibility: string }): Promise<void> {
  await withAdmin(postgresUrl, async (sql) => {
    for (const name of Object.values(databases)) await sql`create database ${sql(name)}`;
  });
}

async function dropDatabases(postgresUrl: string, databases: { persistence: string; visibility: string }): Promise<void> {
  // `with (force)`: a killed server's connections may linger a moment and would block the drop.
  await withAdmin(postgresUrl, async (sql) => {
    for (const name of Object.values(databases)) await sql`drop database if exists ${sql(name)} with (force)`;
  });
}

/**
 * `setup-schema -v 0.0` then `update-schema` to the newest version. The schema is the module's
 * schema/postgresql/v12 tree, which the tool embeds (`--schema-name`), so it always matches the
 * server built from the same module version.
 */
async function setUpSchema(sqlTool: string, postgresUrl: string, database: string, schemaName: string): Promise<void> {
  const url = new URL(postgresUrl);
  // Connection settings through the tool's env variables: the password stays off the command line.
  const env = {
    ...process.env,
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: url.hostname,
    SQL_PORT: url.port || '5432',
    SQL_USER: decodeURIComponent(url.username),
    SQL_PASSWORD: decodeURIComponent(url.password),
    SQL_DATABASE: database,
  };
  await runTool(sqlTool, ['setup-schema', '-v', '0.0'], env);
  await runTool(sqlTool, ['update-schema', '--schema-name', schemaName], env);
}

function runTool(path: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
    child.once('error', reject);
    child.once('exit', (code) => {
      // The tool logs errors yet may exit 0 (`--quiet`), so a "level":"error" line fails too.
      const text = output.join('');
      if (code === 0 && !/"level":"(error|fatal)"/.test(text)) resolve();
      else reject(new TemporalClusterError(`${path} ${args.join(' ')} failed (exit ${code}):\n${text.slice(-3000)}`));
    });
  });
}

/** The sample config/development-postgres12.yaml, on free loopback ports; JSON is YAML. Returns the frontend port. */
async function writeConfig(
  dir: string,
  postgresUrl: string,
  databases: { persistence: string; visibility: string },
  options: TemporalClusterOptions,
): Promise<number> {
  const url = new URL(postgresUrl);
  const [
    frontend,
    frontendMembership,
    frontendHttp,
    history,
    historyMembership,
    matching,
    matchingMembership,
    worker,
    workerMembership,
    metrics,
    pprof,
  ] = await pickFreePorts(11);
  const datastore = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${url.hostname}:${url.port || '5432'}`,
      connectProtocol: 'tcp',
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const rpc = (grpcPort: number, membershipPort: number, extra: object = {}) => ({
    rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...extra },
  });
  const dynamicConfigPath = join(dir, 'dynamicconfig.yaml');
  const config = {
    log: { stdout: false, outputFile: join(dir, 'server.log'), level: options.logLevel ?? 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: options.numHistoryShards ?? 4,
      datastores: { 'postgres-default': datastore(databases.persistence, 10), 'postgres-visibility': datastore(databases.visibility, 4) },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: HOST },
      pprof: { port: pprof },
      metrics: { prometheus: { framework: 'tally', timerType: 'histogram', listenAddress: `${HOST}:${metrics}` } },
    },
    services: {
      frontend: rpc(frontend!, frontendMembership!, { httpPort: frontendHttp }),
      history: rpc(history!, historyMembership!),
      matching: rpc(matching!, matchingMembership!),
      worker: rpc(worker!, workerMembership!),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `${HOST}:${frontend}` } },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    dynamicConfigClient: { filepath: dynamicConfigPath, pollInterval: '10s' },
  };
  // From the sample dynamicconfig/development-sql.yaml: long ids, worker deployments (versioning).
  // Ours: no version check phoning home (CI is offline), search attributes visible at once.
  const dynamicConfig = {
    'limit.maxIDLength': [{ value: 255 }],
    'frontend.workerVersioningDataAPIs': [{ value: true }],
    'frontend.workerVersioningWorkflowAPIs': [{ value: true }],
    'system.enableDeploymentVersions': [{ value: true }],
    'system.enableDeployments': [{ value: true }],
    'frontend.enableServerVersionCheck': [{ value: false }],
    'system.forceSearchAttributesCacheRefreshOnRead': [{ value: true }],
    ...Object.fromEntries(Object.entries(SERVER_DYNAMIC_CONFIG).map(([key, value]) => [key, [{ value }]])),
  };
  await writeFile(join(dir, 'cluster.yaml'), JSON.stringify(config, null, 2));
  await writeFile(dynamicConfigPath, JSON.stringify(dynamicConfig, null, 2));
  return frontend!;
}

interface ServerProcess {
  ready(address: string): Promise<void>;
  exit: () => string | null;
  logTail(): Promise<string>;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

async function spawnServer(serverPath: string, configDir: string): Promise<ServerProcess> {
  // The exit handler below covers a runner that ends; one killed outright (tap's timeout, SIGKILL)
  // runs none, and then the kernel stops the server.
  const serverArgs = ['--root', configDir, '--config', '.', '--env', 'cluster', '--allow-no-auth', 'start'];
  const [command, args] = await withParentDeathSignal(serverPath, serverArgs);
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = exitOf(child);
  let exit: string | null = null;
  void exited.then((how) => (exit = how));
  // A runner that ends without stopping must not leave an orphan server holding the ports.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const logTail = async () => {
    const file = await readFile(join(configDir, 'server.log'), 'utf8').catch(() => '');
    const lines = `${stderr.join('')}\n${file}`.split('\n').filter(Boolean).slice(-LOG_TAIL_LINES);
    return lines.length ? `Server log (last lines):\n${lines.join('\n')}` : 'The server wrote no log.';
  };
  const process_: ServerProcess = {
    exit: () => exit,
    logTail,
    async ready(address) {
      await poll(process_, `frontend ${address} answering`, async () => {
        const connection = await Connection.connect({ address, connectTimeout: 2_000 });
        try {
          await connection.workflowService.getSystemInfo({});
        } finally {
          await connection.close();
        }
      });
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      await terminate(child, exited, STOP_GRACE_MS);
    },
    async kill() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  return process_;
}

/** Retries `attempt` until it resolves; fails at once if the server exits, and after READY_TIMEOUT_MS with the last error and the log. */
async function poll(server: ServerProcess, what: string, attempt: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown = null;
  while (Date.now() < deadline) {
    const exit = server.exit();
    if (exit) throw new TemporalClusterError(`Temporal server exited (${exit}) while waiting for ${what}.\n${await server.logTail()}`);
    try {
      await attempt();
      return;
    } catch (error) {
      lastError = error;
      await sleep(250);
    }
  }
  throw new TemporalClusterError(
    `Timed out after ${READY_TIMEOUT_MS} ms waiting for ${what} (last error: ${lastError instanceof Error ? lastError.message : String(lastError)}).\n${await server.logTail()}`,
  );
}

/**
 * The cluster does not create `default` (the dev server does), nor does anything create the
 * namespace of each test file on a server the run shares (test/helpers/temporal.ts); search
 * attributes fail loudly.
 */
export async function registerNamespaceAndSearchAttributes(address: string, namespace = NAMESPACE): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    try {
      await connection.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs(NAMESPACE_RETENTION),
      });
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = Object.entries(VERIFICATION_SEARCH_ATTRIBUTES).filter(([name]) => !(name in (existing.customAttributes ?? {})));
    if (missing.length > 0) {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, INDEXED_VALUE_TYPES[type]!])),
      });
    }
    const registered = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
    const wrong = Object.entries(VERIFICATION_SEARCH_ATTRIBUTES).filter(([name, type]) => registered[name] !== INDEXED_VALUE_TYPES[type]);
    if (wrong.length > 0) {
      throw new TemporalClusterError(
        `search attributes not registered as asked: ${wrong.map(([name, type]) => `${name} (${type}) is ${registered[name] ?? 'missing'}`).join(', ')}`,
      );
    }
  } finally {
    await connection.close();
  }
}

/** Serving = the frontend knows the namespace (its cache refreshes every few seconds) and a query on our search attributes runs. */
async function waitUntilServing(address: string, server: ServerProcess): Promise<void> {
  await poll(server, `namespace ${NAMESPACE} and its search attributes on ${address}`, async () => {
    const connection = await Connection.connect({ address, connectTimeout: 2_000 });
    try {
      const query = Object.keys(VERIFICATION_SEARCH_ATTRIBUTES)
        .map((name) => `${name} = 'readiness-probe'`)
        .join(' AND ');
      await connection.workflowService.countWorkflowExecutions({ namespace: NAMESPACE, query });
    } finally {
      await connection.close();
    }
  });
}

function isAlreadyExists(error: unknown): boolean {
  // gRPC status 6 = ALREADY_EXISTS (a restart on the same databases).
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 6;
}
