// Public routes of hosted sessions, reached by the user's browser (no API key). Stripe account
// links are single-use and expire within minutes; Stripe then sends the user to the link's
// refresh_url, which lands here and mints a fresh link for the same account.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { and, eq } from 'drizzle-orm';
import { linkSecret, rateLimitsFromEnv } from '../../config/env.ts';
import { verifications } from '../../db/schema/index.ts';
import { ProviderRequestError } from '../../providers/errors.ts';
import { isTerminalStatus, type VerificationStatus } from '../../domain/verification.ts';
import { STRIPE_REFRESH_PATH, STRIPE_RETURN_PATH, isValidStripeRefreshToken } from '../../providers/stripe/refresh-link.ts';
import type { AppDeps } from '../deps.ts';
import { conflict, gone, notFound, serviceUnavailable } from '../errors.ts';
import { perAddressRateLimit } from '../plugins/rate-limit.ts';
import { problemResponses } from '../schemas.ts';

const RefreshQuery = Type.Object({
  verification: Type.String({ format: 'uuid', description: 'Verification id' }),
  account: Type.String({ minLength: 1, maxLength: 255, description: 'The Stripe account the link was issued for' }),
  expires: Type.Integer({ minimum: 0, description: 'Unix time (s) after which the link mints no more onboarding links' }),
  token: Type.String({
    minLength: 1,
    maxLength: 128,
    description: 'HMAC of verification, account and expires, issued by veriflow in the link',
  }),
});

const ReturnQuery = Type.Object({ verification: Type.Optional(Type.String({ maxLength: 64 })) });

const invalidLink = () =>
  notFound({
    detail: 'This onboarding link is not valid',
    action: 'Ask the service that sent you here for a new onboarding link.',
  });

export const sessionRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const { db } = deps.database;
  const secret = linkSecret(deps.env);

  app.get(
    STRIPE_REFRESH_PATH,
    {
      // Unauthenticated and a Stripe call per hit: limited per client address.
      config: perAddressRateLimit(rateLimitsFromEnv(deps.env)),
      schema: {
        summary: 'Continue Stripe onboarding with a fresh account link',
        description:
          "Stripe's `refresh_url`: Stripe sends the user here when an account link has expired or was already used. " +
          "Answers 302 to a new account link for the verification's Stripe account. `token` is veriflow's HMAC of the verification id, " +
          'the account the link was issued for and `expires`: 410 once expired, 404 when the verification has moved to another account, ' +
          '409 once the verification is decided (approved, declined, expired, canceled, error).',
        tags: ['sessions'],
        security: [],
        querystring: RefreshQuery,
        response: {
          302: Type.Null({ description: 'Redirect to a fresh Stripe onboarding link' }),
          ...problemResponses(400, 404, 409, 410, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const { verification: verificationId, account: accountId, expires, token } = request.query;
      // Checked before the lookup: an invalid token learns nothing about which ids exist.
      if (!isValidStripeRefreshToken(secret, { verificationId, accountId, expiresAt: new Date(expires * 1000) }, token))
        throw invalidLink();
      if (expires * 1000 <= Date.now()) {
        throw gone({
          code: 'link_expired',
          detail: 'This onboarding link has expired',
          action: 'Ask the service that sent you here for a new onboarding link.',
        });
      }
      const [row] = await db
        .select({ id: verifications.id, providerRef: verifications.providerRef, status: verifications.status })
        .from(verifications)
        .where(and(eq(verifications.id, verificationId.toLowerCase()), eq(verifications.provider, 'stripe')))
        .limit(1);
      if (!row || !deps.providers.has('stripe')) throw invalidLink();
      const adapter = deps.providers.get('stripe');
      if (row.providerRef === null || adapter.refreshSession === undefined) {
        throw conflict({
          code: 'session_not_ready',
          detail: 'The Stripe account for this verification is still being created',
          action: 'Reload this page in a few seconds.',
        });
      }
      // The link belongs to the account it was issued for, not to whatever the verification holds now.
      if (row.providerRef !== accountId) throw invalidLink();
      if (isTerminalStatus(row.status as VerificationStatus)) {
        throw conflict({
          code: 'verification_finished',
          detail: `This verification is already ${row.status}; no new onboarding link is issued`,
          action: 'Nothing more to do here; ask the service that sent you here if you think this is wrong.',
        });
      }
      let session;
      try {
        session = await adapter.refreshSession(row.providerRef, row.id);
      } catch (err) {
        if (!(err instanceof ProviderRequestError)) throw err;
        request.log.warn({ err, verificationId: row.id }, 'stripe account link could not be created');
        throw serviceUnavailable({
          code: 'provider_unavailable',
          detail: 'Stripe could not create a new onboarding link',
          action: 'Reload this page in a minute.',
        });
      }
      // Links are bearer credentials for the account: never cached, never logged.
      reply.header('cache-control', 'no-store');
      return reply.redirect(session.sessionUrl, 302);
    },
  );

  app.get(
    STRIPE_RETURN_PATH,
    {
      schema: {
        summary: 'Where Stripe onboarding returns the user',
        description: "Stripe's `return_url`. Leaving onboarding says nothing about the result: the account's webhooks do.",
        tags: ['sessions'],
        security: [],
        querystring: ReturnQuery,
        response: { 200: Type.String({ description: 'A short HTML page' }) },
      },
    },
    async (_request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .send(
          '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Onboarding</title></head>' +
            '<body><h1 data-testid="stripe-return">Thanks, you can close this tab.</h1>' +
            '<p>Your details were handed to Stripe; the service that sent you will be told the result.</p></body></html>',
        ),
  );
};
