// What an erasure of a verification's personal data records: the erasure activity's result,
// the erasure workflow's result, and what DELETE …/personal-data answers from.

/** `api_key`: DELETE /v1/verifications/:id/personal-data; `retention`: RETENTION_PERSONAL_DATA ran out. */
export const ERASURE_TRIGGERS = ['api_key', 'retention'] as const;
export type ErasedBy = (typeof ERASURE_TRIGGERS)[number];

export interface PersonalDataErasureRecord {
  verificationId: string;
  /** ISO 8601. */
  erasedAt: string;
  erasedBy: ErasedBy;
  apiKeyId: string | null;
}
