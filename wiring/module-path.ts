import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * A module the SDK loads by path (webpack entries, converters): run from source it is the `.ts`
 * file; compiled into dist/, the `.js` beside where the `.ts` would be.
 */
export function sourceOrCompiled(tsUrl: URL): string {
  const ts = fileURLToPath(tsUrl);
  return existsSync(ts) ? ts : ts.replace(/\.ts$/, '.js');
}
