import { MalformedWebhookError } from '../errors.ts';
import type { NormalizedWebhook } from '../types.ts';
import { readPersonaInquiry } from './inquiry.ts';
import { isJsonObject, readIsoTimestamp, readText } from '../json.ts';

// Persona event: { data: { type: "event", id: "evt_…", attributes: { name, "created-at",
// payload: { data: <inquiry>, included: [...] } } } }.

// We create inquiries with `reference-id` = our verification id (a UUID). Other reference ids
// (an email in seed 000, or inquiries made in Persona's dashboard) must not be taken for one.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Throws MalformedWebhookError when the body is not a Persona event. Call after verifying the signature. */
export function parsePersonaWebhook(rawBody: Buffer): NormalizedWebhook {
  const event = parseJson(rawBody);
  const data = isJsonObject(event) ? event.data : undefined;
  if (!isJsonObject(data)) throw new MalformedWebhookError('Persona webhook has no data object');

  const providerEventId = readText(data.id);
  if (providerEventId === null) throw new MalformedWebhookError('Persona webhook has no data.id');
  const attributes = data.attributes;
  if (!isJsonObject(attributes)) throw new MalformedWebhookError(`Persona event ${providerEventId} has no attributes`);
  const eventType = readText(attributes.name);
  if (eventType === null) throw new MalformedWebhookError(`Persona event ${providerEventId} has no name`);
  // Events are ordered by this time, never by arrival, so an event without it is unusable.
  const occurredAt = readIsoTimestamp(attributes['created-at']);
  if (occurredAt === null) throw new MalformedWebhookError(`Persona event ${providerEventId} has no valid created-at`);

  // Events about other objects (verifications, accounts, ...) are valid but carry no inquiry
  // status: they normalize to an event nobody acts on.
  const inquiry = readPersonaInquiry(attributes.payload, eventType);
  const referenceId = inquiry?.referenceId ?? null;
  return {
    providerEventId,
    eventType,
    occurredAt,
    verificationId: referenceId !== null && UUID.test(referenceId) ? referenceId.toLowerCase() : null,
    providerRef: inquiry?.inquiryId ?? null,
    providerStatus: inquiry?.providerStatus ?? null,
    status: inquiry?.status ?? null,
    reasons: inquiry?.reasons ?? [],
    document: inquiry?.document ?? null,
  };
}

function parseJson(rawBody: Buffer): unknown {
  try {
    return JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new MalformedWebhookError('Persona webhook body is not JSON');
  }
}
