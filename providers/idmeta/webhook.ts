import { MalformedWebhookError } from '../errors.ts';
import type { NormalizedWebhook } from '../types.ts';
import { isJsonObject, parseJson, readText } from '../json.ts';
import { readTimestamp } from './json.ts';
import { readIdmetaVerification } from './resources.ts';
import { mapIdmetaStatus } from './status.ts';

// IDmeta webhook body (our documented shape; the sandbox sends the same):
// { event_id: "evt_…", event: "verification.step_completed" | "verification.finalized" |
//   "verification.status_changed", created_at: ISO,
//   verification: { id, template_id, status, status_message, metadata: { veriflow_verification_id } } }
// The signature covers the body but nothing bounds replays, so the workflow reads the verification
// from the API before applying (fetchBeforeApply); the status here only decides whether to signal.

/** The metadata key create-verification stores our id under; webhooks echo the metadata back. */
export const VERIFICATION_ID_METADATA_KEY = 'veriflow_verification_id';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Throws MalformedWebhookError when the body is not an IDmeta event. Call after verifying the signature. */
export function parseIdmetaWebhook(rawBody: Buffer): NormalizedWebhook {
  const event = parseJson(rawBody.toString('utf8'));
  if (!isJsonObject(event)) throw new MalformedWebhookError('IDmeta webhook body is not a JSON object');
  const providerEventId = readText(event.event_id);
  if (providerEventId === null) throw new MalformedWebhookError('IDmeta webhook has no event_id');
  const eventType = readText(event.event);
  if (eventType === null) throw new MalformedWebhookError(`IDmeta event ${providerEventId} has no event name`);
  // Events are ordered by this time, never by arrival, so an event without it is unusable.
  const occurredAt = readTimestamp(event.created_at);
  if (occurredAt === null) throw new MalformedWebhookError(`IDmeta event ${providerEventId} has no valid created_at`);
  const verification = readIdmetaVerification(event);
  if (verification === null) throw new MalformedWebhookError(`IDmeta event ${providerEventId} names no verification`);

  const ours = readText(verification.metadata?.[VERIFICATION_ID_METADATA_KEY]);
  const mapped = mapIdmetaStatus(verification.rawStatus);
  return {
    providerEventId,
    eventType,
    occurredAt,
    verificationId: ours !== null && UUID.test(ours) ? ours.toLowerCase() : null,
    providerRef: verification.id,
    // An unknown status is stored but signals nothing: never a guess.
    providerStatus: mapped?.providerStatus ?? null,
    status: mapped?.status ?? null,
    reasons: mapped?.reasons ?? [],
    // Step data is read through the API (finalize, fetch), not trusted from an unbounded-replay body.
    document: null,
  };
}
