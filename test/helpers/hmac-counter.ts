// Counts HMAC computations made anywhere in the process (our verifiers, the Stripe package, the
// SmileID SDK) by wrapping crypto.createHmac for the duration of one call. syncBuiltinESMExports
// makes ESM named imports (`import { createHmac } from 'node:crypto'`) see the wrapper too.
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';

/** Runs `run` and returns how many HMACs it started, with what it returned or threw. */
export function countHmacs(run: () => void): { hmacs: number; error: unknown } {
  const original = crypto.createHmac;
  let hmacs = 0;
  crypto.createHmac = ((...args: Parameters<typeof original>) => {
    hmacs += 1;
    return original(...args);
  }) as typeof original;
  syncBuiltinESMExports();
  try {
    run();
    return { hmacs, error: null };
  } catch (error) {
    return { hmacs, error };
  } finally {
    crypto.createHmac = original;
    syncBuiltinESMExports();
  }
}
