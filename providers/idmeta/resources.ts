import { EMPTY_DOCUMENT, type DocumentData } from '../../domain/identity-document.ts';
import type { ProviderTemplate, TemplateStep } from '../types.ts';
import { idCheckForStep } from './id-checks.ts';
import { isJsonObject, readText, type JsonObject } from '../json.ts';
import { decodeNested, readBoolean, readTimestamp } from './json.ts';
import { readIdmetaStatusCode, type IdmetaStatusCode } from './status.ts';

// Readers for the two resources veriflow uses: a template (trust flow) with its plans, and a
// verification (trust validation) with its per-step data.

/** Step keys become URL paths (`/api/v1/verification/<key>`): lowercase words, `/`-separated. */
export const STEP_KEY = /^[a-z0-9_-]+(?:\/[a-z0-9_-]+)*$/;

export interface IdmetaVerificationView {
  id: string;
  templateId: string | null;
  status: IdmetaStatusCode | null;
  /** As sent, for error messages when the status is unknown. */
  rawStatus: unknown;
  /** Where the end user completes the flow, when the API offers one. */
  verificationUrl: string | null;
  metadata: JsonObject | null;
  steps: IdmetaStepResult[];
  updatedAt: string | null;
}

export interface IdmetaStepResult {
  plan: string;
  status: IdmetaStatusCode | null;
  data: JsonObject;
}

/** `{ id, name, plans: [{ key, name }], is_active }`; null when it has no id. Never keeps the webhook secret. */
export function readIdmetaTemplate(value: unknown, position: number): ProviderTemplate | null {
  if (!isJsonObject(value)) return null;
  const externalId = readText(value.id);
  if (externalId === null) return null;
  const plans = decodeNested(value.plans ?? value.steps);
  const steps = Array.isArray(plans) ? plans.map(readStep).filter((step): step is TemplateStep => step !== null) : [];
  const metadata: JsonObject = { position };
  for (const [from, to] of [
    ['description', 'description'],
    ['updated_at', 'updatedAt'],
    ['workflow_id', 'workflowId'],
  ] as const) {
    const text = readText(value[from]);
    if (text !== null) metadata[to] = text;
  }
  return {
    externalId,
    name: readText(value.name) ?? `Template ${externalId}`,
    steps,
    // A template without the flag is live: IDmeta lists deleted templates only when asked.
    active: readBoolean(value.is_active ?? value.active) ?? true,
    metadata,
  };
}

function readStep(value: unknown): TemplateStep | null {
  if (typeof value === 'string') return STEP_KEY.test(value) ? { key: value, name: humanize(value) } : null;
  if (!isJsonObject(value)) return null;
  const key = readText(value.key) ?? readText(value.slug) ?? readText(value.plan);
  if (key === null || !STEP_KEY.test(key)) return null;
  return { key, name: readText(value.name) ?? humanize(key) };
}

function humanize(key: string): string {
  const words = key.split('/').at(-1)!.replace(/[_-]+/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The verification in a response: `{ verification: {…} }`, `{ data: { verification: {…} } }` or bare. */
export function readIdmetaVerification(body: unknown): IdmetaVerificationView | null {
  const candidate = isJsonObject(body)
    ? (body.verification ?? (isJsonObject(body.data) ? (body.data.verification ?? body.data) : body))
    : null;
  if (!isJsonObject(candidate)) return null;
  const id = readText(candidate.id);
  if (id === null) return null;
  const metadata = decodeNested(candidate.metadata);
  const data = decodeNested(candidate.verification_data);
  return {
    id,
    templateId: readText(candidate.template_id),
    status: readIdmetaStatusCode(candidate.status),
    rawStatus: candidate.status,
    verificationUrl: readText(candidate.verification_url),
    metadata: isJsonObject(metadata) ? metadata : null,
    steps: Array.isArray(data) ? data.flatMap(readStepResult) : [],
    updatedAt:
      readTimestamp(candidate.updated_at) ?? readTimestamp(candidate.verification_ended_at) ?? readTimestamp(candidate.verification_date),
  };
}

function readStepResult(value: unknown): IdmetaStepResult[] {
  if (!isJsonObject(value)) return [];
  const plan = readText(value.plan) ?? readText(value.key);
  if (plan === null) return [];
  const data = decodeNested(value.data ?? value.result);
  return [{ plan, status: readIdmetaStatusCode(value.status), data: isJsonObject(data) ? data : {} }];
}

/**
 * Document data from the step results: an ID check's government record (NBI: `ID_no`, `fname`,
 * `clearance_expiry`; PRC: `license_no`, `expiry_date`) or the document step's extraction. The last
 * step with data wins; null when no step returned any.
 */
export function documentFromSteps(steps: readonly IdmetaStepResult[]): DocumentData | null {
  for (const step of [...steps].reverse()) {
    const document = documentFromStep(step);
    if (document !== null) return document;
  }
  return null;
}

function documentFromStep(step: IdmetaStepResult): DocumentData | null {
  const check = idCheckForStep(step.plan);
  const source =
    check !== null && isJsonObject(step.data.data) ? step.data.data : isJsonObject(step.data.extraction) ? step.data.extraction : step.data;
  const pick = (...keys: string[]) => keys.map((key) => readText(source[key])).find((text) => text !== null) ?? null;
  const document: DocumentData = {
    ...EMPTY_DOCUMENT,
    type: check?.documentType ?? pick('document_type', 'documentType'),
    idClass: check !== null ? step.plan : pick('id_class', 'idClass'),
    number: pick('ID_no', 'id_no', 'license_no', 'licenseNo', 'document_number', 'documentNumber'),
    expiresAt: pick('clearance_expiry', 'expiry_date', 'license_expiration_date', 'date_of_expiry', 'dateOfExpiry'),
    issuedAt: pick('date_of_issue', 'dateOfIssue', 'initial_registration_date'),
    issuingAuthority: check !== null ? (check.documentType === 'nbi_clearance' ? 'NBI' : 'PRC') : pick('issuing_authority'),
    country: check !== null ? 'PH' : pick('country', 'country_code'),
    firstName: pick('fname', 'first_name', 'firstName'),
    middleName: pick('mname', 'middle_name', 'middleName'),
    lastName: pick('lname', 'last_name', 'lastName'),
    birthdate: pick('birthdate', 'date_of_birth', 'dateOfBirth', 'dob'),
    sex: pick('sex', 'gender'),
    nationality: pick('nationality'),
    address: pick('address'),
  };
  const { type: _type, idClass: _idClass, issuingAuthority: _authority, country: _country, ...read } = document;
  return Object.values(read).some((value) => value !== null) ? document : null;
}
