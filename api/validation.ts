// Request validation per request part. A JSON body arrives typed, so it is validated as sent:
// `"reference": 42` is an error, not the string "42". Query strings, path params and headers
// arrive as text and are still coerced to their schema's types (`?limit=5`). ajv coerces per
// instance, so this builds two of fastify's own compilers and picks one by httpPart.
import { AjvCompiler } from '@fastify/ajv-compiler';
import type { FastifyServerOptions } from 'fastify';

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;
/** Fastify's `ajv` server option, as it reaches the factory. */
interface AjvServerOptions {
  customOptions?: Record<string, unknown>;
  plugins?: unknown[];
}
/** What fastify hands a validator compiler at run time (ajv-compiler's own typings name it wrongly). */
type RouteValidatorCompiler = (route: { schema: unknown; method: string; url: string; httpPart?: string }) => unknown;

export const buildValidator = ((externalSchemas: Record<string, unknown>, ajvOptions: AjvServerOptions = {}) => {
  const pool = AjvCompiler() as unknown as (schemas: Record<string, unknown>, options: AjvServerOptions) => RouteValidatorCompiler;
  const coercing = pool(externalSchemas, ajvOptions);
  const asSent = pool(externalSchemas, { ...ajvOptions, customOptions: { ...ajvOptions.customOptions, coerceTypes: false } });
  const compile: RouteValidatorCompiler = (route) => (route.httpPart === 'body' ? asSent : coercing)(route);
  return compile;
}) as unknown as NonNullable<CompilersFactory['buildValidator']>;
