// Persona's JSON:API bodies: resources and their `included` array. Persona adds attributes and
// resource types freely and leaves most values null, so every read checks the shape.

import { isJsonObject, readText, type JsonObject } from '../json.ts';

/** A JSON:API resource as Persona serializes it: `{ type, id, attributes, relationships }`. */
export interface JsonApiResource {
  type: string;
  id: string;
  attributes: JsonObject;
  relationships: JsonObject;
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
