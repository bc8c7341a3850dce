import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import proto from '@temporalio/proto';
import t from 'tap';
import {
  pickFreePort,
  startTemporalDevServer,
  TemporalDevServerError,
  VERIFICATION_SEARCH_ATTRIBUTES,
} from '../../scripts/lib/temporal-dev-server.ts';
import { startTestTemporal } from '../helpers/temporal.ts';

const KEYWORD = proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
const verificationStatus = defineSearchAttributeKey('VerificationStatus', SearchAttributeType.KEYWORD);

t.test('starts, accepts clients and registers the verification search attributes', async (t) => {
  const { client, address } = await startTestTemporal(t);
  t.match(address, /^127\.0\.0\.1:\d+$/);

  const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace: 'default' });
  for (const name of Object.keys(VERIFICATION_SEARCH_ATTRIBUTES)) {
    t.equal(customAttributes?.[name], KEYWORD, `${name} is a Keyword attribute`);
  }
});

t.test('a server restarted on the same SQLite file keeps its workflows', async (t) => {
  const dbFile = join(t.testdir(), 'nested', 'temporal.sqlite');
  const workflowId = `restart-${randomUUID()}`;

  await withServer({ dbFile }, async (client) => {
    // No worker polls this queue, so the workflow stays Running without any workflow code.
    await client.workflow.start('verification', {
      taskQueue: 'nobody-polls',
      workflowId,
      typedSearchAttributes: [{ key: verificationStatus, value: 'needs_review' }],
    });
  });

  await withServer({ dbFile }, async (client) => {
    const description = await client.workflow.getHandle(workflowId).describe();
    t.equal(description.status.name, 'RUNNING');
    t.equal(description.typedSearchAttributes.get(verificationStatus), 'needs_review');

    // The operators' review queue is a visibility query on the search attribute.
    const ids: string[] = [];
    for await (const workflow of client.workflow.list({ query: `VerificationStatus="needs_review"` })) {
      ids.push(workflow.workflowId);
    }
    t.same(ids, [workflowId]);
  });
});

t.test('serves the Web UI when a UI port is given', async (t) => {
  const server = await startTemporalDevServer({ uiPort: 0 });
  t.teardown(server.stop);
  t.ok(server.uiUrl);
  const response = await fetch(server.uiUrl!);
  t.equal(response.status, 200);
});

t.test('refuses a port that another server holds', async (t) => {
  const first = await startTemporalDevServer();
  t.teardown(first.stop);
  await t.rejects(startTemporalDevServer({ port: first.port }), {
    name: 'TemporalDevServerError',
    code: 'VF_TEMPORAL_DEV_SERVER',
    message: /not free/,
  });
});

t.test('fails with the server stderr when the server exits before it is ready', async (t) => {
  const error = await startTemporalDevServer({ logLevel: 'no-such-level' }).then(
    () => null,
    (error: unknown) => error,
  );
  t.type(error, TemporalDevServerError);
  t.match((error as Error).message, /exited before it was ready[\s\S]*no-such-level/);
});

t.test('kill() ends the server at once; stop() afterwards is harmless', async (t) => {
  const server = await startTemporalDevServer();
  server.kill();
  await server.stop();
  t.equal(server.child.signalCode, 'SIGKILL');
});

/** One server lifetime on a fixed SQLite file: stopped before the next one starts. */
async function withServer(options: { dbFile: string }, use: (client: Client) => Promise<void>): Promise<void> {
  const server = await startTemporalDevServer(options);
  try {
    const connection = await Connection.connect({ address: server.address });
    try {
      await use(new Client({ connection }));
    } finally {
      await connection.close();
    }
  } finally {
    await server.stop();
  }
}

// A picked port is free only until the caller listens on it. The OS hands out the ephemeral range
// as source ports of outbound connections too (any test's database or Temporal client), so a
// port picked there can be taken in between: CI once failed a stack's listen with EADDRINUSE.
t.test('pickFreePort picks below the ephemeral range, where no outbound connection takes the port first', async (t) => {
  const range = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '32768 60999');
  const [ephemeralLow] = range.trim().split(/\s+/).map(Number);
  const ports = await Promise.all(Array.from({ length: 20 }, () => pickFreePort()));
  t.same(
    ports.filter((port) => port >= ephemeralLow!),
    [],
    `all of ${ports.join(', ')} below ${ephemeralLow}`,
  );
});
