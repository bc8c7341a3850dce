import type { VerificationStatus } from '../../domain/verification.ts';
import { ownEntry } from '../lookup.ts';

// IDmeta "Trust Validation" statuses (docs: resources/verification-status-types) and the unified
// status each stands for. The raw name (`status_message` style) is what we keep as providerStatus.

export const IDMETA_STATUS = {
  rejected: 1,
  reviewNeeded: 2,
  verified: 3,
  incomplete: 4,
  inProgress: 5,
  failed: 6,
  empty: 99,
} as const;
export type IdmetaStatusCode = (typeof IDMETA_STATUS)[keyof typeof IDMETA_STATUS];

export interface IdmetaStatusMapping {
  code: IdmetaStatusCode;
  /** IDmeta's name for it, as in `status_message` (e.g. `REVIEW_NEEDED`). */
  providerStatus: string;
  status: VerificationStatus;
  reasons: string[];
}

const MAPPING: Record<IdmetaStatusCode, Omit<IdmetaStatusMapping, 'code'>> = {
  1: { providerStatus: 'REJECTED', status: 'declined', reasons: [] },
  2: { providerStatus: 'REVIEW_NEEDED', status: 'needs_review', reasons: [] },
  3: { providerStatus: 'VERIFIED', status: 'approved', reasons: [] },
  // Some required step was never submitted: the user (or we) still owe it, so it is not a result.
  4: { providerStatus: 'INCOMPLETE', status: 'pending', reasons: [] },
  5: { providerStatus: 'IN_PROGRESS', status: 'in_progress', reasons: [] },
  // The provider could not process the verification: no decision about the person was made.
  6: { providerStatus: 'FAILED', status: 'error', reasons: ['provider_failed'] },
  99: { providerStatus: 'EMPTY', status: 'created', reasons: [] },
};

export function isIdmetaStatusCode(value: number): value is IdmetaStatusCode {
  return Object.hasOwn(MAPPING, value);
}

/** A status code as IDmeta sends it: a number, sometimes a numeric string. Null for anything else. */
export function readIdmetaStatusCode(value: unknown): IdmetaStatusCode | null {
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,3}$/.test(value.trim()) ? Number(value) : NaN;
  return Number.isInteger(number) && isIdmetaStatusCode(number) ? number : null;
}

/** Unified status for an IDmeta status code; null for a code we do not know (never a guess). */
export function mapIdmetaStatus(value: unknown): IdmetaStatusMapping | null {
  const code = readIdmetaStatusCode(value);
  if (code === null) return null;
  const mapping = MAPPING[code];
  return { code, providerStatus: mapping.providerStatus, status: mapping.status, reasons: [...mapping.reasons] };
}

// Most decisive first. IDmeta documents: Rejected takes precedence over Review Needed and Verified;
// Review Needed applies only if nothing is Rejected; Verified only when every component passed.
const PRECEDENCE: readonly IdmetaStatusCode[] = [1, 2, 6, 5, 4, 3];

/**
 * The overall status of a verification from its components' statuses (one per step), the way IDmeta
 * aggregates them. An unknown component status counts as Review Needed: never approve on a guess.
 */
export function overallIdmetaStatus(components: readonly unknown[]): IdmetaStatusCode {
  if (components.length === 0) return IDMETA_STATUS.empty;
  const codes = components.map((value) => readIdmetaStatusCode(value) ?? IDMETA_STATUS.reviewNeeded);
  // An empty component is a step that never ran.
  const present: IdmetaStatusCode[] = codes.map((code) => (code === IDMETA_STATUS.empty ? IDMETA_STATUS.incomplete : code));
  return PRECEDENCE.find((code) => present.includes(code)) ?? IDMETA_STATUS.reviewNeeded;
}

/** Status of a single API request (a step call), separate from the verification's status. */
export const IDMETA_REQUEST_STATUS = { pending: 0, success: 1, failed: 2 } as const;
export type IdmetaRequestStatus = (typeof IDMETA_REQUEST_STATUS)[keyof typeof IDMETA_REQUEST_STATUS];

const REQUEST_STATUS_NAMES: Readonly<Record<string, IdmetaRequestStatus>> = { PENDING: 0, SUCCESS: 1, FAILED: 2 };

/** 0/1/2, or the names the API also uses (`api_request_status: "SUCCESS"`); null when absent or unknown. */
export function readIdmetaRequestStatus(value: unknown): IdmetaRequestStatus | null {
  if (value === 0 || value === 1 || value === 2) return value;
  if (typeof value === 'string') {
    const trimmed = value.trim().toUpperCase();
    if (trimmed === '0' || trimmed === '1' || trimmed === '2') return Number(trimmed) as IdmetaRequestStatus;
    return ownEntry(REQUEST_STATUS_NAMES, trimmed) ?? null;
  }
  return null;
}
