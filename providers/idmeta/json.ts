// IDmeta's quirks on top of the shared readers (../json.ts): some nested values arrive as
// JSON-encoded strings (`"verification_data": "[]"`, `"plans": "null"`), booleans as 0/1 or
// strings, timestamps with or without a zone.

import { parseJson, readText } from '../json.ts';

export function readBoolean(value: unknown): boolean | null {
  if (value === true || value === 1 || value === '1' || value === 'true') return true;
  if (value === false || value === 0 || value === '0' || value === 'false') return false;
  return null;
}

// `2025-09-12T07:00:57.750683Z` and `2025-07-28 09:01:32` (no zone: IDmeta's servers run on UTC).
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?$/;

/** An instant normalized to `toISOString()` form, or null if the value is not one. */
export function readTimestamp(value: unknown): string | null {
  const text = readText(value);
  const match = text === null ? null : DATE_TIME.exec(text);
  if (match === null) return null;
  // Date.parse handles at most milliseconds reliably: trim the microseconds IDmeta sends.
  const time = match[2]!.replace(/(\.\d{3})\d+$/, '$1');
  const millis = Date.parse(`${match[1]}T${time}${match[3] ?? 'Z'}`);
  return Number.isNaN(millis) ? null : new Date(millis).toISOString();
}

/** A value that may arrive JSON-encoded in a string (`"[]"`, `"null"`), decoded once. */
export function decodeNested(value: unknown): unknown {
  return typeof value === 'string' ? parseJson(value) : value;
}
