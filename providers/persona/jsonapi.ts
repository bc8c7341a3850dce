// Defensive readers for Persona's JSON:API bodies. Persona adds attributes and resource types
// freely and leaves most values null, so every read checks the shape instead of trusting it.

export type JsonObject = Record<string, unknown>;

/** A JSON:API resource as Persona serializes it: `{ type, id, attributes, relationships }`. */
export interface JsonApiResource {
  type: string;
  id: string;
  attributes: JsonObject;
  relationships: JsonObject;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty, trimmed string; numbers are accepted because ID numbers sometimes arrive as numbers. */
export function readText(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

export function readResource(value: unknown): JsonApiResource | null {
  if (!isJsonObject(value)) return null;
  const type = readText(value.type);
  const id = readText(value.id);
  if (type === null || id === null) return null;
  return {
    type,
    id,
    attributes: isJsonObject(value.attributes) ? value.attributes : {},
    relationships: isJsonObject(value.relationships) ? value.relationships : {},
  };
}

/** The well-formed resources of a JSON:API `included` array; anything else is skipped. */
export function readIncluded(value: unknown): JsonApiResource[] {
  if (!Array.isArray(value)) return [];
  return value.map(readResource).filter((resource): resource is JsonApiResource => resource !== null);
}

// Date.parse also accepts loose forms like "1" or "March 7"; event ordering needs real timestamps.
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** An ISO 8601 date-time normalized to `toISOString()` form, or null if it is not one. */
export function readTimestamp(value: unknown): string | null {
  const text = readText(value);
  if (text === null || !ISO_DATE_TIME.test(text)) return null;
  const millis = Date.parse(text);
  return Number.isNaN(millis) ? null : new Date(millis).toISOString();
}
