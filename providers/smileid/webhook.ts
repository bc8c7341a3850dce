import { MalformedWebhookError } from '../errors.ts';
import type { NormalizedWebhook } from '../types.ts';
import { isJsonObject, parseJson, readIsoTimestamp, readText, type JsonObject } from '../json.ts';
import { readSmileIdResult } from './result-codes.ts';
import { verifySmileIdSignature } from './signature.ts';

// SmileID callback (v1, as Smile Links send it): one JSON object with the job result at the top
// level and the signature inside the body —
//   { ResultCode, ResultText, ResultType, SmileJobID, PartnerParams: { job_id, user_id, job_type },
//     IsFinalResult, ConfidenceValue, Actions, …, timestamp, signature }
//
// Routing: we create every link with partner_params.job_id = our verification id (a UUID), so
// job_id is both our verification id and providerRef: the partner-side job id SmileID's
// job_status API is keyed on (with user_id, which we also set to the verification id). SmileJobID
// is SmileID's internal number for support tickets; it does not route.
//
// Event id: SmileID sends none. We derive one from SmileJobID + ResultCode + timestamp: a retry
// of the same signed callback dedupes; a new decision (a reviewer's override, the final result
// after a provisional 0814) gets a new id. A retry that SmileID re-signs with a fresh timestamp
// counts as a new event — harmless, because every callback is only a nudge to read job_status.

export const SMILEID_CALLBACK_EVENT_TYPE = 'job.result';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface VerifySmileIdCallbackInput {
  rawBody: Buffer | string;
  partnerId: string;
  apiKey: string;
  now?: Date;
  toleranceSeconds?: number;
}

/**
 * Throws WebhookSignatureError unless the callback's `signature` is SmileID's for its `timestamp`
 * (within ±300 s), MalformedWebhookError when the body is not a JSON object. The payload itself
 * is not covered by the signature: confirm it through job_status before trusting it.
 */
export function verifySmileIdCallback(input: VerifySmileIdCallbackInput): void {
  const callback = readCallback(input.rawBody);
  verifySmileIdSignature({
    partnerId: input.partnerId,
    apiKey: input.apiKey,
    timestamp: callback.timestamp,
    signature: callback.signature,
    now: input.now,
    toleranceSeconds: input.toleranceSeconds,
    what: 'SmileID callback',
  });
}

/** Throws MalformedWebhookError when the body is not a SmileID callback. Call after verifying the signature. */
export function parseSmileIdWebhook(rawBody: Buffer): NormalizedWebhook {
  const callback = readCallback(rawBody);
  const occurredAt = readIsoTimestamp(callback.timestamp);
  if (occurredAt === null) throw new MalformedWebhookError('SmileID callback has no valid timestamp');

  const partnerParams = isJsonObject(callback.PartnerParams) ? callback.PartnerParams : {};
  const jobId = readText(partnerParams.job_id);
  const smileJobId = readText(callback.SmileJobID);
  if (jobId === null && smileJobId === null)
    throw new MalformedWebhookError('SmileID callback has neither SmileJobID nor PartnerParams.job_id');

  const result = readSmileIdResult(callback);
  return {
    providerEventId: [smileJobId ?? `job_id=${jobId}`, result?.providerStatus ?? 'none', occurredAt].join(':'),
    eventType: SMILEID_CALLBACK_EVENT_TYPE,
    occurredAt,
    verificationId: jobId !== null && UUID.test(jobId) ? jobId.toLowerCase() : null,
    providerRef: jobId,
    providerStatus: result?.providerStatus ?? null,
    status: result?.status ?? null,
    reasons: result?.reasons ?? [],
    // The callback's personal data (names, ID number) is not covered by the signature: we never
    // take a document from it.
    document: null,
  };
}

function readCallback(rawBody: Buffer | string): JsonObject {
  const parsed = parseJson(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
  if (parsed === undefined) throw new MalformedWebhookError('SmileID callback body is not JSON');
  if (!isJsonObject(parsed)) throw new MalformedWebhookError('SmileID callback body is not a JSON object');
  return parsed;
}
