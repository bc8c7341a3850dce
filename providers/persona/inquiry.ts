import type { DocumentData } from '../../domain/identity-document.ts';
import type { VerificationStatus } from '../../domain/verification.ts';
import { extractPersonaDocument } from './documents.ts';
import { isJsonObject, readIsoTimestamp, readText } from '../json.ts';
import { readResource } from './jsonapi.ts';
import { mapPersonaStatus, resolvePersonaStatus, type PersonaInquiryStatus } from './status.ts';

// One reading of an inquiry document (`{ data: inquiry, included }`) shared by the webhook
// parser and the API client, so a webhook and a poll of the same inquiry can never disagree.

export interface PersonaInquiryView {
  inquiryId: string;
  referenceId: string | null;
  /** `attributes.status` exactly as sent, even when we do not know it. */
  rawStatus: string | null;
  providerStatus: PersonaInquiryStatus | null;
  status: VerificationStatus | null;
  reasons: string[];
  document: DocumentData | null;
  /** Latest of the inquiry's lifecycle timestamps. */
  updatedAt: string | null;
  expiresAt: string | null;
}

const LIFECYCLE_TIMESTAMPS = [
  'created-at',
  'started-at',
  'completed-at',
  'failed-at',
  'marked-for-review-at',
  'decisioned-at',
  'expired-at',
  'redacted-at',
  'updated-at',
] as const;

/** null when `data` is not an inquiry. `eventName` fills in the status when the payload lacks one. */
export function readPersonaInquiry(inquiryDocument: unknown, eventName: string | null = null): PersonaInquiryView | null {
  if (!isJsonObject(inquiryDocument)) return null;
  const inquiry = readResource(inquiryDocument.data);
  if (inquiry === null || inquiry.type !== 'inquiry') return null;

  const attributes = inquiry.attributes;
  const providerStatus = resolvePersonaStatus({ eventName, payloadStatus: attributes.status });
  const mapping = providerStatus === null ? null : mapPersonaStatus(providerStatus);
  return {
    inquiryId: inquiry.id,
    referenceId: readText(attributes['reference-id']),
    rawStatus: readText(attributes.status),
    providerStatus,
    status: mapping?.status ?? null,
    reasons: mapping?.reasons ?? [],
    document: extractPersonaDocument(inquiryDocument),
    updatedAt: latest(LIFECYCLE_TIMESTAMPS.map((name) => readIsoTimestamp(attributes[name]))),
    expiresAt: readIsoTimestamp(attributes['expires-at']),
  };
}

function latest(timestamps: (string | null)[]): string | null {
  // Normalized ISO strings in UTC sort chronologically as text.
  return timestamps.reduce<string | null>((best, t) => (t !== null && (best === null || t > best) ? t : best), null);
}
