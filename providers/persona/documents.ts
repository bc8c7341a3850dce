import type { DocumentData } from '../../domain/identity-document.ts';
import { isJsonObject, readText, type JsonObject } from '../json.ts';
import { readIncluded, readResource, type JsonApiResource } from './jsonapi.ts';
import { ownEntry } from '../lookup.ts';

// Document data lives in `included[]`, not in the inquiry's `fields` (those are form inputs):
// seed 000 learned this the hard way when every stored document field came out null.

const GOVERNMENT_ID_TYPES = new Set(['verification/government-id', 'document/government-id']);

// Seed 000's docType mapping (1 / 2 / 3); any other Persona id-class is kept as is.
const DOCUMENT_TYPE_BY_ID_CLASS: Readonly<Record<string, string>> = {
  id: 'national_id',
  pp: 'passport',
  dl: 'driving_license',
};

const ADDRESS_PARTS = ['address-street-1', 'address-street-2', 'address-city', 'address-subdivision', 'address-postal-code'] as const;

/**
 * The government ID of an inquiry document (`{ data: inquiry, included: [...] }`, as in a webhook
 * payload or a GET response). null when it has none; never throws on odd shapes.
 */
export function extractPersonaDocument(inquiryDocument: unknown): DocumentData | null {
  if (!isJsonObject(inquiryDocument)) return null;
  const inquiry = readResource(inquiryDocument.data);
  const fields = isJsonObject(inquiry?.attributes.fields) ? inquiry.attributes.fields : {};
  const governmentIds = readIncluded(inquiryDocument.included).filter((item) => GOVERNMENT_ID_TYPES.has(item.type));
  const chosen = currentGovernmentId(fields, governmentIds) ?? mostRecent(governmentIds);
  if (chosen === undefined) return null;

  const attributes = chosen.attributes;
  const idClass = readText(attributes['id-class']);
  const country =
    readText(attributes['country-code']) ??
    readText(attributes['issuing-country']) ??
    readText(fieldValue(fields, 'selected-country-code'));

  return {
    type: idClass === null ? null : (ownEntry(DOCUMENT_TYPE_BY_ID_CLASS, idClass) ?? idClass),
    idClass,
    number: readText(attributes['identification-number']),
    expiresAt: readText(attributes['expiration-date']),
    issuedAt: readText(attributes['issue-date']),
    issuingAuthority: readText(attributes['issuing-authority']),
    country,
    firstName: readText(attributes['name-first']),
    middleName: readText(attributes['name-middle']),
    lastName: readText(attributes['name-last']),
    birthdate: readText(attributes.birthdate),
    sex: readText(attributes.sex),
    // Seed 000: "nationality, fallback to doc country".
    nationality: readText(attributes.nationality) ?? country,
    address: joinAddress(attributes),
  };
}

/** The ID Persona marks as current (`fields.current-government-id`), when it is in `included`. */
function currentGovernmentId(fields: JsonObject, candidates: JsonApiResource[]): JsonApiResource | undefined {
  const current = fieldValue(fields, 'current-government-id');
  const currentId = isJsonObject(current) ? readText(current.id) : null;
  return currentId === null ? undefined : candidates.find((item) => item.id === currentId);
}

/** Latest by `created-at`; without usable dates, the last one listed (a retry follows the attempt it replaces). */
function mostRecent(candidates: JsonApiResource[]): JsonApiResource | undefined {
  let best: { item: JsonApiResource; createdAt: number } | undefined;
  for (const item of candidates) {
    const parsed = Date.parse(readText(item.attributes['created-at']) ?? '');
    const createdAt = Number.isNaN(parsed) ? Number.NEGATIVE_INFINITY : parsed;
    if (best === undefined || createdAt >= best.createdAt) best = { item, createdAt };
  }
  return best?.item;
}

function fieldValue(fields: JsonObject, name: string): unknown {
  const field = fields[name];
  return isJsonObject(field) ? field.value : undefined;
}

function joinAddress(attributes: JsonObject): string | null {
  const parts = ADDRESS_PARTS.map((name) => readText(attributes[name])).filter((part) => part !== null);
  return parts.length === 0 ? null : parts.join(', ');
}
