import type { VerificationStatus } from '../../domain/verification.ts';
import { readText, type JsonObject } from '../json.ts';

// SmileID result codes (v1 callbacks and job_status `result.ResultCode`) and v3 statuses mapped
// to the unified status (providers.md, seed 002). providerStatus is always the code or v3 status
// exactly as SmileID names it, so nothing is lost in translation.

export interface SmileIdResultMapping {
  /** The result code (`1012`) or v3 status (`clear`) as SmileID sent it; `unknown` when it sent neither. */
  providerStatus: string;
  status: VerificationStatus;
  /** Machine-readable reason codes, empty for an approval. */
  reasons: string[];
}

interface CodeEntry {
  status: VerificationStatus;
  reasons: readonly string[];
}

/** Every result code we decide on; any other code is `needs_review` (never an approval by accident). */
export const SMILEID_RESULT_CODES: Readonly<Record<string, CodeEntry>> = {
  // Enhanced KYC
  '1012': { status: 'approved', reasons: [] }, // ID number validated
  '1020': { status: 'approved', reasons: [] }, // exact match
  '1021': { status: 'approved', reasons: [] }, // partial match
  '1013': { status: 'declined', reasons: ['id_not_verified'] },
  '1022': { status: 'declined', reasons: ['id_not_verified'] },
  '1023': { status: 'declined', reasons: ['id_not_verified'] },
  // No job result: the ID authority or the request failed, nothing was decided about the person.
  '1014': { status: 'error', reasons: ['no_job_result'] },
  '1015': { status: 'error', reasons: ['no_job_result'] },
  '1016': { status: 'error', reasons: ['no_job_result'] },
  // Biometric KYC
  '1210': { status: 'approved', reasons: [] }, // enroll user
  '0814': { status: 'needs_review', reasons: ['provisional_under_review'] },
  // General rejections
  '0001': { status: 'declined', reasons: ['rejected'] },
  '0903': { status: 'declined', reasons: ['rejected'] },
  '0907': { status: 'declined', reasons: ['possible_spoof'] },
};

/** v3 API statuses. `not_found`: SmileID has no job yet (the user has not submitted on the link). */
export const SMILEID_V3_STATUSES: Readonly<Record<string, CodeEntry>> = {
  clear: { status: 'approved', reasons: [] },
  block: { status: 'declined', reasons: ['blocked'] },
  attention: { status: 'needs_review', reasons: ['attention'] },
  error: { status: 'error', reasons: ['provider_error'] },
  processing: { status: 'in_progress', reasons: [] },
  not_found: { status: 'pending', reasons: [] },
};

const UNKNOWN: CodeEntry = { status: 'needs_review', reasons: ['unknown_result_code'] };

/**
 * A result code as text: SmileID sends strings (`"0814"`), but a code that went through a JSON
 * number loses its leading zeros (`814`), so short numeric codes are padded back to four digits.
 * null when the value is no code at all.
 */
export function normalizeSmileIdCode(value: unknown): string | null {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return String(value).padStart(4, '0');
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (text === '') return null;
  return /^\d{1,4}$/.test(text) ? text.padStart(4, '0') : text;
}

/** Unified status for a result code or v3 status. Unknown ones need a person: `needs_review`. */
export function mapSmileIdResult(codeOrStatus: string): SmileIdResultMapping {
  const code = normalizeSmileIdCode(codeOrStatus) ?? 'unknown';
  if (Object.hasOwn(SMILEID_RESULT_CODES, code)) return mapping(code, SMILEID_RESULT_CODES[code] ?? UNKNOWN);
  const v3 = code.toLowerCase();
  if (Object.hasOwn(SMILEID_V3_STATUSES, v3)) return mapping(v3, SMILEID_V3_STATUSES[v3] ?? UNKNOWN);
  return mapping(code, UNKNOWN);
}

function mapping(providerStatus: string, entry: CodeEntry): SmileIdResultMapping {
  return { providerStatus, status: entry.status, reasons: [...entry.reasons] };
}

/**
 * What a callback body or a job_status `result` reports: its `ResultCode`, else a v3 `status`.
 * null when it reports neither (nothing to decide on).
 */
export function readSmileIdResult(result: JsonObject): SmileIdResultMapping | null {
  const code = normalizeSmileIdCode(result.ResultCode);
  if (code !== null) return mapSmileIdResult(code);
  const v3 = readText(result.status)?.toLowerCase() ?? null;
  return v3 !== null && Object.hasOwn(SMILEID_V3_STATUSES, v3) ? mapSmileIdResult(v3) : null;
}
