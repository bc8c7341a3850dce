// The typed client (clients/typescript) for contract tests, over real HTTP, with every response
// checked against the OpenAPI document the API serves: the status must be documented for that
// operation and a JSON body must validate against the documented schema. The types make the
// test code agree with the document at compile time; this makes the real responses agree with
// it at run time. A response that does not match fails the request with the reason.
import { AjvCompiler } from '@fastify/ajv-compiler';
import { createVeriflowClient, type VeriflowClient } from '../../clients/typescript/index.ts';

interface Operation {
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, unknown> };
}
type Validate = ((body: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null };
type CompileSchema = (route: { schema: unknown; method: string; url: string }) => Validate;

export interface ContractClient {
  client: VeriflowClient;
  /** Responses checked against the document so far. */
  checked(): number;
}

export async function contractClient(baseUrl: string, apiKey: string): Promise<ContractClient> {
  const document = (await (await fetch(`${baseUrl}/openapi.json`)).json()) as OpenApiDocument;
  const checkResponse = responseChecker(document);
  let checked = 0;
  const client = createVeriflowClient({
    baseUrl,
    apiKey,
    fetch: async (request) => {
      const response = await fetch(request);
      const problem = await checkResponse(request, response.clone());
      if (problem) throw new Error(`${request.method} ${new URL(request.url).pathname}: ${problem}`);
      checked += 1;
      return response;
    },
  });
  return { client, checked: () => checked };
}

/** Null when the response is what the document says the operation answers, else why not. */
function responseChecker(document: OpenApiDocument): (request: Request, response: Response) => Promise<string | null> {
  // Nothing in the document is mutated or coerced: the body is judged as sent.
  const compile = (AjvCompiler() as unknown as (schemas: object, options: object) => CompileSchema)(
    {},
    { customOptions: { coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: true, strict: false } },
  );
  const validators = new Map<unknown, Validate>();
  const operations = Object.entries(document.paths).map(([template, methods]) => ({
    pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
    template,
    methods,
  }));

  return async (request, response) => {
    const path = new URL(request.url).pathname;
    const method = request.method.toLowerCase();
    const match = operations.find((o) => o.pattern.test(path) && o.methods[method]);
    if (!match) return 'the operation is not in the document';
    const documented = match.methods[method]!.responses[String(response.status)] ?? match.methods[method]!.responses.default;
    if (!documented) return `status ${response.status} is not documented for ${method.toUpperCase()} ${match.template}`;
    const contentType = response.headers.get('content-type') ?? '';
    if (!/json/.test(contentType)) return documented.content ? `a ${contentType || 'bodiless'} answer where JSON is documented` : null;
    const mediaType = contentType.split(';')[0]!.trim();
    const media = documented.content?.[mediaType];
    if (!media)
      return `a ${mediaType} body where ${response.status} documents ${Object.keys(documented.content ?? {}).join(', ') || 'none'}`;
    let validate = validators.get(media.schema);
    if (!validate) {
      validate = compile({ schema: inlineRefs(media.schema, document), method, url: match.template });
      validators.set(media.schema, validate);
    }
    const body: unknown = await response.json();
    if (validate(body)) return null;
    const errors = (validate.errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message ?? ''}`).join('; ');
    return `the ${response.status} body does not match its documented schema: ${errors}\n${JSON.stringify(body)}`;
  };
}

/** The document's `#/components/schemas/…` references, replaced by the schemas they name. */
function inlineRefs(schema: unknown, document: OpenApiDocument): unknown {
  if (Array.isArray(schema)) return schema.map((item) => inlineRefs(item, document));
  if (schema === null || typeof schema !== 'object') return schema;
  const ref = (schema as { $ref?: unknown }).$ref;
  if (typeof ref === 'string') {
    const name = ref.replace('#/components/schemas/', '');
    const target = document.components?.schemas?.[name];
    if (!target) throw new Error(`unresolved reference ${ref}`);
    const { $id: _id, ...rest } = target as Record<string, unknown>;
    return inlineRefs(rest, document);
  }
  return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, inlineRefs(value, document)]));
}
