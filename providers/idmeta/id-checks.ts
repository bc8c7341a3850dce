import type { StepApplicant, TemplateStep } from '../types.ts';

// ID-number checks against Philippine government records: one IDmeta call with the document
// number and the person's data, no document upload. Each is a step (an IDmeta "plan") whose key is
// the path of its endpoint under /api/v1/verification/ (docs: government-data/philippines).

export interface IdmetaIdCheck {
  step: TemplateStep;
  /** What a person calls it, for messages. */
  label: string;
  /** Body field that carries the number. */
  numberField: string;
  /** Our document type for the record the check returns. */
  documentType: string;
}

export const IDMETA_ID_CHECKS = {
  philippines_nbi_clearance: {
    step: { key: 'philippines/nbiclearance', name: 'NBI clearance check' },
    label: 'Philippine NBI clearance',
    numberField: 'clearanceNo',
    documentType: 'nbi_clearance',
  },
  philippines_prc: {
    step: { key: 'philippines/prc', name: 'PRC licence check' },
    label: 'Philippine PRC licence',
    numberField: 'licenseNo',
    documentType: 'prc_license',
  },
} as const satisfies Record<string, IdmetaIdCheck>;

export type IdmetaIdCheckType = keyof typeof IDMETA_ID_CHECKS;
export const IDMETA_ID_CHECK_TYPES = Object.keys(IDMETA_ID_CHECKS) as IdmetaIdCheckType[];

export function idCheckForStep(stepKey: string): IdmetaIdCheck | null {
  return Object.values(IDMETA_ID_CHECKS).find((check) => check.step.key === stepKey) ?? null;
}

/**
 * The fields a step sends besides `template_id` and `verification_id`. Only ID checks send
 * personal data, and only what the check needs; any other step sends none.
 */
export function stepFields(stepKey: string, applicant: StepApplicant | null | undefined): Record<string, string> {
  const check = idCheckForStep(stepKey);
  if (check === null || !applicant) return {};
  const fields: Record<string, string> = {};
  if (applicant.idNumber) fields[check.numberField] = applicant.idNumber;
  if (applicant.firstName) fields.firstName = applicant.firstName;
  if (applicant.lastName) fields.lastName = applicant.lastName;
  if (applicant.dateOfBirth) fields.dateOfBirth = applicant.dateOfBirth;
  return fields;
}
