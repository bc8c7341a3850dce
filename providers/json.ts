// Defensive readers for provider JSON, shared by every adapter: providers add fields freely,
// leave many null and send ids as numbers or strings, so every read checks the shape instead of
// trusting it. Provider-specific readers (JSON:API resources, IDmeta's zone-less timestamps)
// live next to their adapter.

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty, trimmed string, else null. */
export function readString(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

/** A non-empty, trimmed string; finite numbers become text (ids and codes arrive as either). */
export function readText(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return readString(value);
}

// Date.parse also accepts loose forms like "1" or "March 7"; event ordering needs real timestamps.
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** An ISO 8601 date-time normalized to `toISOString()` form, or null if it is not one. */
export function readIsoTimestamp(value: unknown): string | null {
  const text = readText(value);
  if (text === null || !ISO_DATE_TIME.test(text)) return null;
  const millis = Date.parse(text);
  return Number.isNaN(millis) ? null : new Date(millis).toISOString();
}

/** Parsed JSON, or undefined when the text is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The strings of a list; anything else reads as empty. */
export function readStringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}
