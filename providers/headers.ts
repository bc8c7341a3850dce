// A signature header as the adapter's verifier reads it: found whatever its case, and one string
// when it arrived more than once. Each provider's scheme says how repeats combine: Persona's
// rotation sets are space-separated, a repeated Stripe header (Stripe never sends one) is
// comma-joined as Node joins it, IDmeta's is one value.
import type { HeaderMap } from './types.ts';

/** The header `name` (lower case), its repeats joined with `separator`, or only the first without one. */
export function headerValue(headers: HeaderMap, name: string, separator?: string): string | undefined {
  const entry = Object.entries(headers).find(([key]) => key.toLowerCase() === name);
  const value = entry?.[1];
  if (!Array.isArray(value)) return value;
  return separator === undefined ? value[0] : value.join(separator);
}
