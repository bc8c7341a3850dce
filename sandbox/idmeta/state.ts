import { randomBytes, randomUUID } from 'node:crypto';

// The simulated IDmeta account, in memory: templates (trust flows) with their plans, verifications
// with one record per step, chaos knobs, and counters tests read to prove a step ran exactly once.

/** IDmeta verification statuses (docs: resources/verification-status-types). */
export const STATUS = { rejected: 1, reviewNeeded: 2, verified: 3, incomplete: 4, inProgress: 5, failed: 6, empty: 99 } as const;
export type SimStatus = (typeof STATUS)[keyof typeof STATUS];

export const STATUS_MESSAGE: Record<SimStatus, string> = {
  1: 'REJECTED',
  2: 'REVIEW_NEEDED',
  3: 'VERIFIED',
  4: 'INCOMPLETE',
  5: 'IN_PROGRESS',
  6: 'FAILED',
  99: 'EMPTY',
};

export interface Plan {
  key: string;
  name: string;
}

export interface SimTemplate {
  id: number;
  name: string;
  plans: Plan[];
  isActive: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface SimStep extends Plan {
  completed: boolean;
  /** The component's verification status once completed. */
  status: SimStatus;
  data: Record<string, unknown>;
  completedBy: 'api' | 'hosted' | null;
  completedAt: Date | null;
  /** Every API request for this step, failed or not. */
  calls: number;
  /** Requests answered 503 by the chaos knob. */
  failures: number;
  /** Requests answered with success (first run, replays, already-completed answers). */
  successes: number;
  /** Times the step actually ran (pending -> completed): exactly once, whoever completed it. */
  executions: number;
  /** Chaos: answer this many requests with 503 before succeeding. */
  failuresLeft: number;
}

export interface SimVerification {
  id: string;
  templateId: number;
  templateName: string;
  metadata: Record<string, unknown> | null;
  status: SimStatus;
  steps: SimStep[];
  /** An outcome chosen on the hosted page: finalize reports it instead of the components' verdict. */
  decision: SimStatus | null;
  finalized: boolean;
  finalizeCalls: number;
  /** Chaos: every successful step answer waits this long (to watch progress step by step). */
  delayMs: number;
  createdAt: Date;
  updatedAt: Date;
  endedAt: Date | null;
}

export interface ChaosSettings {
  /** Step key -> number of 503 answers before the step succeeds. */
  failures?: Record<string, number>;
  delayMs?: number;
}

const DEFAULT_PLANS = {
  document: { key: 'document', name: 'Document verification' },
  selfie: { key: 'selfie', name: 'Selfie and liveness' },
  databaseCheck: { key: 'database_check', name: 'Database check' },
  aml: { key: 'aml_screening', name: 'AML screening' },
  nbi: { key: 'philippines/nbiclearance', name: 'NBI clearance check' },
  prc: { key: 'philippines/prc', name: 'PRC licence check' },
} satisfies Record<string, Plan>;

/** The sandbox account's own templates; ids echo seed 001 (template 306, NBI plan 170). */
const WELL_KNOWN: readonly { id: number; name: string; plans: Plan[] }[] = [
  { id: 306, name: 'First Philippine ID', plans: [DEFAULT_PLANS.document, DEFAULT_PLANS.selfie, DEFAULT_PLANS.databaseCheck] },
  { id: 170, name: 'PH NBI Clearance', plans: [DEFAULT_PLANS.nbi] },
  { id: 171, name: 'PH PRC Licence', plans: [DEFAULT_PLANS.prc] },
  { id: 312, name: 'Document only', plans: [DEFAULT_PLANS.document] },
  { id: 318, name: 'Selfie and AML', plans: [DEFAULT_PLANS.selfie, DEFAULT_PLANS.aml] },
];

export const DEFAULT_TEMPLATE_COUNT = WELL_KNOWN.length;

/** The ID checks: the body field that carries the number, and how the sandbox answers. */
export const ID_CHECK_FIELDS: Readonly<Record<string, string>> = {
  'philippines/nbiclearance': 'clearanceNo',
  'philippines/prc': 'licenseNo',
};

function catalogue(count: number, now: Date): SimTemplate[] {
  const templates = WELL_KNOWN.slice(0, count).map((t) => ({ ...t, plans: [...t.plans] }));
  for (let i = templates.length; i < count; i++) {
    templates.push({
      id: 1000 + i,
      name: `Generated template ${1000 + i}`,
      plans: i % 2 === 0 ? [DEFAULT_PLANS.document, DEFAULT_PLANS.selfie] : [DEFAULT_PLANS.document],
    });
  }
  return templates.map((t) => ({ ...t, isActive: true, createdAt: now, updatedAt: now }));
}

export class StepNotInTemplateError extends Error {
  readonly code = 'IDMETA_SANDBOX_STEP_NOT_IN_TEMPLATE';
}

export function createIdmetaStore(now: () => Date = () => new Date()) {
  let templates = catalogue(DEFAULT_TEMPLATE_COUNT, now());
  const verifications = new Map<string, SimVerification>();
  const templateChaos = new Map<number, ChaosSettings>();
  /** Idempotency-Key -> the success answered first, replayed for the same key. */
  const answered = new Map<string, unknown>();
  let outage = false;

  function applyChaos(verification: SimVerification, chaos: ChaosSettings): void {
    for (const [key, failures] of Object.entries(chaos.failures ?? {})) {
      const step = verification.steps.find((s) => s.key === key);
      if (step === undefined) throw new StepNotInTemplateError(`Plan ${key} is not part of template ${verification.templateId}`);
      step.failuresLeft = Math.max(0, Math.floor(failures));
    }
    if (chaos.delayMs !== undefined) verification.delayMs = Math.max(0, Math.floor(chaos.delayMs));
  }

  return {
    templates: () => templates,
    template: (id: number) => templates.find((t) => t.id === id),

    /** Replace the catalogue: the well-known templates first, generated ones after. */
    setTemplateCount(count: number): void {
      templates = catalogue(Math.max(0, Math.floor(count)), now());
    },

    get outage() {
      return outage;
    },
    setOutage(enabled: boolean): void {
      outage = enabled;
    },

    /** Chaos for every verification created from now on with this template (until set again). */
    armTemplateChaos(templateId: number, chaos: ChaosSettings): void {
      templateChaos.set(templateId, chaos);
    },
    applyChaos,

    create(template: SimTemplate, metadata: Record<string, unknown> | null): SimVerification {
      const at = now();
      const verification: SimVerification = {
        id: randomUUID(),
        templateId: template.id,
        templateName: template.name,
        metadata,
        status: STATUS.empty,
        steps: template.plans.map((plan) => ({
          ...plan,
          completed: false,
          status: STATUS.empty,
          data: {},
          completedBy: null,
          completedAt: null,
          calls: 0,
          failures: 0,
          successes: 0,
          executions: 0,
          failuresLeft: 0,
        })),
        decision: null,
        finalized: false,
        finalizeCalls: 0,
        delayMs: 0,
        createdAt: at,
        updatedAt: at,
        endedAt: null,
      };
      const chaos = templateChaos.get(template.id);
      if (chaos !== undefined) applyChaos(verification, chaos);
      verifications.set(verification.id, verification);
      return verification;
    },

    get: (id: string) => verifications.get(id),
    list: () => [...verifications.values()].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime()),

    answeredFor: (key: string) => answered.get(key),
    remember(key: string, answer: unknown): void {
      answered.set(key, answer);
    },

    /** Runs a pending step (a no-op for a completed one): its component status and data. */
    complete(verification: SimVerification, step: SimStep, by: 'api' | 'hosted', fields: Record<string, unknown>): boolean {
      if (step.completed) return false;
      const outcome = stepOutcome(step.key, fields, verification);
      step.completed = true;
      step.status = outcome.status;
      step.data = outcome.data;
      step.completedBy = by;
      step.completedAt = now();
      step.executions += 1;
      if (!verification.finalized) verification.status = STATUS.inProgress;
      verification.updatedAt = now();
      return true;
    },

    /** Ends the flow: the chosen outcome, else the components' verdict. Incomplete while steps are missing. */
    finalize(verification: SimVerification): { missing: string[]; changed: boolean } {
      const missing = verification.steps.filter((s) => !s.completed).map((s) => s.key);
      if (verification.finalized) return { missing, changed: false };
      if (missing.length > 0) {
        verification.status = STATUS.incomplete;
        verification.updatedAt = now();
        return { missing, changed: true };
      }
      verification.status = verification.decision ?? overall(verification.steps.map((s) => s.status));
      verification.finalized = true;
      verification.endedAt = now();
      verification.updatedAt = now();
      return { missing, changed: true };
    },

    /** A decision made after finalizing, as a reviewer in IDmeta's dashboard would. */
    redecide(verification: SimVerification, decision: SimStatus): boolean {
      verification.decision = decision;
      if (!verification.finalized || verification.status === decision) return false;
      verification.status = decision;
      verification.updatedAt = now();
      return true;
    },
  };
}

export type IdmetaStore = ReturnType<typeof createIdmetaStore>;

/** IDmeta's precedence: Rejected, then Review Needed, then Failed; Verified only if every component passed. */
export function overall(statuses: readonly SimStatus[]): SimStatus {
  const order: SimStatus[] = [STATUS.rejected, STATUS.reviewNeeded, STATUS.failed, STATUS.inProgress, STATUS.incomplete];
  return order.find((status) => statuses.includes(status)) ?? (statuses.length > 0 ? STATUS.verified : STATUS.empty);
}

/**
 * What a step finds. ID checks: a number containing `NOTFOUND` has no record (Rejected), one
 * containing `EXPIRED` an expired one (Review Needed); any other number is a valid record. Other
 * steps pass, with invented document data on the document step.
 */
function stepOutcome(
  key: string,
  fields: Record<string, unknown>,
  verification: SimVerification,
): { status: SimStatus; data: Record<string, unknown> } {
  const numberField = ID_CHECK_FIELDS[key];
  if (numberField !== undefined) {
    const number = String(fields[numberField] ?? '').toUpperCase();
    const firstName = String(fields.firstName ?? 'JUAN').toUpperCase();
    const lastName = String(fields.lastName ?? 'DELA CRUZ').toUpperCase();
    const found = !number.includes('NOTFOUND');
    const expired = number.includes('EXPIRED');
    const expiry = expired ? '2023-07-25' : '2031-07-25';
    const record =
      key === 'philippines/nbiclearance'
        ? {
            ID_no: String(fields[numberField] ?? ''),
            full_name: `${firstName} ${lastName}`,
            fname: firstName,
            lname: lastName,
            mname: '',
            clearance_expiry: expiry,
            is_expired: expired,
            has_pin: false,
          }
        : {
            license_no: String(fields[numberField] ?? ''),
            first_name: firstName,
            last_name: lastName,
            profession: 'PROFESSIONAL TEACHER',
            expiry_date: expiry,
            prc_status: expired ? 'Expired' : 'Valid',
          };
    return {
      status: !found ? STATUS.rejected : expired ? STATUS.reviewNeeded : STATUS.verified,
      data: found
        ? { data: record, found: true, valid: !expired, statusCode: 200 }
        : { data: null, found: false, valid: false, statusCode: 404 },
    };
  }
  if (key === 'document') {
    const suffix = verification.id.replace(/-/g, '').slice(0, 8).toUpperCase();
    return {
      status: STATUS.verified,
      data: {
        recommendedOutcome: 'Accept',
        extraction: {
          documentType: 'national_id',
          documentNumber: `PSN-${suffix}`,
          firstName: 'JUAN',
          lastName: 'DELA CRUZ',
          dateOfBirth: '1990-01-01',
          dateOfExpiry: '2031-01-01',
          country: 'PH',
        },
      },
    };
  }
  if (key === 'selfie') return { status: STATUS.verified, data: { livenessPass: true, livenessScore: 0.93 } };
  return { status: STATUS.verified, data: { matched: true } };
}

export function eventId(): string {
  return `evt_${randomBytes(12).toString('hex')}`;
}
