// The codec endpoint of Temporal's codec server protocol, for the Web UI and the CLI: they POST
// the payloads of a history (`{ payloads: [{ metadata, data }] }`, bytes as base64) and get them
// decrypted (or, for input typed into the UI, encrypted) with the worker's own key ring.
// Decrypting is reading personal data, so it is an operator credential's job and nobody else's.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { commaList } from '../../config/env.ts';
import { getPayloadCodec, payloadFromJson, payloadToJson, PayloadDecryptionError } from '../../wiring/codec.ts';
import type { AppDeps } from '../deps.ts';
import { forbidden, unauthorized, unprocessable } from '../errors.ts';
import { problemResponses } from '../schemas.ts';

/** Histories carry payloads up to Temporal's 2 MiB limit, a third larger as base64, several per call. */
const CODEC_BODY_LIMIT = 8 * 1024 * 1024;
const ALLOWED_HEADERS = 'authorization, content-type, x-namespace';

const JsonPayloadSchema = Type.Object({
  metadata: Type.Optional(Type.Union([Type.Record(Type.String(), Type.String({ contentEncoding: 'base64' })), Type.Null()])),
  data: Type.Optional(Type.Union([Type.String({ contentEncoding: 'base64' }), Type.Null()])),
});
const PayloadsBody = Type.Object(
  { payloads: Type.Array(JsonPayloadSchema) },
  { description: 'temporal.api.common.v1.Payloads as proto3 JSON (bytes base64)' },
);
const PayloadsResponse = Type.Object({
  payloads: Type.Array(Type.Object({ metadata: Type.Record(Type.String(), Type.String()), data: Type.String() })),
});

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export const codecRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const { env } = deps;
  const codec = getPayloadCodec(env);
  const origins = new Set(
    commaList(env.CODEC_CORS_ORIGINS)
      .map((o) => o.replace(/\/+$/, ''))
      .filter(Boolean),
  );
  const expected = env.CODEC_AUTH_TOKEN ? sha256(env.CODEC_AUTH_TOKEN) : null;
  // Only the public dev key, outside production: the codec reveals nothing the source code does not.
  const openForDevelopment = expected === null && env.NODE_ENV !== 'production' && !env.PAYLOAD_ENCRYPTION_KEYS;

  // The Web UI calls from its own origin: every answer (errors included) says whether it may read it.
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin && origins.has(origin)) {
      reply.header('access-control-allow-origin', origin);
      // The UI's "include cross-origin credentials" setting sends cookies; allowing it is harmless here.
      reply.header('access-control-allow-credentials', 'true');
    }
    reply.header('vary', 'Origin');
  });

  const authorize = async (request: FastifyRequest): Promise<void> => {
    if (openForDevelopment) return;
    if (expected === null) {
      throw forbidden({
        code: 'codec_disabled',
        detail: 'The codec endpoint is disabled: CODEC_AUTH_TOKEN is not set',
        action: 'Set CODEC_AUTH_TOKEN on the API and send it as `Authorization: Bearer <token>` (temporal CLI: --codec-auth).',
      });
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match || !timingSafeEqual(sha256(match[1]!), expected)) {
      throw unauthorized({
        code: match ? 'invalid_codec_token' : 'missing_codec_token',
        detail: match ? 'The codec token is not valid' : 'No codec token was sent',
        action: 'Send `Authorization: Bearer <CODEC_AUTH_TOKEN>`.',
      });
    }
  };

  // CORS preflight: no credentials are sent with it, so it is answered before any auth.
  app.options(
    '/codec/:operation',
    { schema: { hide: true, params: Type.Object({ operation: Type.Union([Type.Literal('encode'), Type.Literal('decode')]) }) } },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const origin = request.headers.origin;
      if (!origin || !origins.has(origin)) {
        throw forbidden({
          code: 'origin_not_allowed',
          detail: `Origin ${origin ?? '(none)'} may not call the codec endpoint`,
          action: 'Add the Web UI origin to CODEC_CORS_ORIGINS.',
        });
      }
      return reply
        .header('access-control-allow-methods', 'POST, OPTIONS')
        .header('access-control-allow-headers', ALLOWED_HEADERS)
        .header('access-control-max-age', '600')
        .status(204)
        .send();
    },
  );

  const route = (operation: 'encode' | 'decode') =>
    app.post(
      `/codec/${operation}`,
      {
        bodyLimit: CODEC_BODY_LIMIT,
        preHandler: authorize,
        schema: {
          summary:
            operation === 'decode'
              ? 'Decrypt Temporal payloads (codec server protocol)'
              : 'Encrypt Temporal payloads (codec server protocol)',
          description:
            'For the Temporal Web UI (`--ui-codec-endpoint` / TEMPORAL_CODEC_ENDPOINT = `<api>/codec`) and `temporal --codec-endpoint <api>/codec --codec-auth "Bearer <token>"`. ' +
            'Requires `Authorization: Bearer <CODEC_AUTH_TOKEN>` (open only in development with the built-in dev key). Unencrypted payloads pass through unchanged.',
          tags: ['operations'],
          security: [{ bearer: [] }],
          headers: Type.Object({ 'x-namespace': Type.Optional(Type.String()) }),
          body: PayloadsBody,
          response: { 200: PayloadsResponse, ...problemResponses(400, 401, 403, 413, 415, 422) },
        },
      },
      async (request) => {
        const payloads = request.body.payloads.map(payloadFromJson);
        try {
          const result = operation === 'decode' ? await codec.decode(payloads) : await codec.encode(payloads);
          return { payloads: result.map(payloadToJson) };
        } catch (err) {
          if (!(err instanceof PayloadDecryptionError)) throw err;
          throw unprocessable({
            code: 'payload_undecryptable',
            detail: err.message,
            action: 'Add the key named in detail to PAYLOAD_ENCRYPTION_KEYS (any position after the first).',
          });
        }
      },
    );
  route('decode');
  route('encode');
};
