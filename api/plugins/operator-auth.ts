// Operator routes take OPERATOR_TOKEN, never a tenant's API key: they act for the whole platform
// (a provider-wide template sync with the platform's credentials), not for one tenant.
import { createHash, timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import { forbidden, unauthorized } from '../errors.ts';
import { presentedKey } from './auth.ts';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** Compared as digests: equal lengths for timingSafeEqual, and nothing learned from the timing. */
export function tokenMatches(presented: string | null, expectedDigest: Buffer): boolean {
  return presented !== null && timingSafeEqual(digest(presented), expectedDigest);
}

/** `Authorization: Bearer <OPERATOR_TOKEN>` for every route registered inside this plugin's scope. */
export const operatorAuth = fp<{ token: string | undefined }>(async (app, { token }) => {
  const expected = token ? digest(token) : null;
  app.addHook('onRequest', async (request) => {
    if (expected === null) {
      throw forbidden({
        code: 'operator_token_not_configured',
        detail: 'This is an operator action and no operator token is configured',
        action:
          'Set OPERATOR_TOKEN on the API (a long random string) and send it as `Authorization: Bearer <token>`; `npm run dev` sets one and prints it.',
      });
    }
    if (!tokenMatches(presentedKey(request), expected)) {
      throw unauthorized({
        code: 'invalid_operator_token',
        detail: 'This route needs the operator token',
        action: 'Send `Authorization: Bearer <OPERATOR_TOKEN>`; tenant API keys cannot run operator actions.',
      });
    }
  });
});
