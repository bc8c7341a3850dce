// `npm run client:generate`: rewrites the typed client's types (clients/typescript/schema.ts)
// from the OpenAPI document the app serves. Run it after changing a route or a schema;
// test/client/generated-types.test.ts fails until you do.
import { writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { CLIENT_SCHEMA_PATH, renderClientTypes } from './lib/client-types.ts';
import { buildOpenApiDocument } from './lib/openapi-document.ts';

const types = await renderClientTypes(await buildOpenApiDocument());
await writeFile(CLIENT_SCHEMA_PATH, types);
console.log(`client:generate: wrote ${relative(process.cwd(), CLIENT_SCHEMA_PATH)} (${types.length} characters)`);
