// The typed client stays true to the API: its checked-in types are what `npm run
// client:generate` makes of the document GET /openapi.json serves today, and the README's client
// example is the compiled example file (tsc checks it against those types).
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { CLIENT_SCHEMA_PATH, renderClientTypes } from '../../scripts/lib/client-types.ts';
import { buildOpenApiDocument } from '../../scripts/lib/openapi-document.ts';

const EXAMPLE_PATH = 'clients/typescript/examples/start-verification.ts';

t.test('clients/typescript/schema.ts is up to date with /openapi.json', async (t) => {
  const expected = await renderClientTypes(await buildOpenApiDocument());
  const checkedIn = await readFile(CLIENT_SCHEMA_PATH, 'utf8');
  t.ok(
    checkedIn === expected,
    'the client types are stale: a route or schema changed since they were generated. Run `npm run client:generate` and commit clients/typescript/schema.ts.',
  );
});

t.test("the README's TypeScript client example is examples/start-verification.ts, verbatim", async (t) => {
  const [readme, example] = await Promise.all([readFile('README.md', 'utf8'), readFile(EXAMPLE_PATH, 'utf8')]);
  const quoted = /## TypeScript client[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  t.ok(quoted !== undefined, 'README has a "TypeScript client" section with a ts code block');
  t.equal(quoted, example, `the README quotes ${EXAMPLE_PATH}; copy the file into the README when you change it`);
});
