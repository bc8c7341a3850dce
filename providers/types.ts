import type { ProviderCapabilities } from '../domain/provider-capabilities.ts';
import type { DocumentData } from '../domain/identity-document.ts';
import type { ProviderName, VerificationStatus } from '../domain/verification.ts';

export type HeaderMap = Record<string, string | string[] | undefined>;

export interface WebhookRequest {
  rawBody: Buffer;
  headers: HeaderMap;
}

/** A webhook body reduced to what routing, dedupe and the reducer need. */
export interface NormalizedWebhook {
  providerEventId: string;
  eventType: string;
  occurredAt: string;
  /** Our verification id when the provider echoes it (Persona `reference-id`, SmileID `job_id`). */
  verificationId: string | null;
  /** The provider's own id for the session (inq_…, acct_…). */
  providerRef: string | null;
  /** null when the event carries no status we act on (e.g. an event type we ignore). */
  providerStatus: string | null;
  status: VerificationStatus | null;
  reasons: string[];
  document: DocumentData | null;
  /** The event withdraws the provider's decision (Stripe deauthorization): terminal, and no state read shows it. */
  revokes?: boolean;
}

export interface CreateSessionInput {
  verificationId: string;
  templateId: string | null;
  /** Stable per verification, so a retried create never makes a second provider session. */
  idempotencyKey: string;
}

export interface ProviderSession {
  providerRef: string;
  sessionUrl: string | null;
  expiresAt: string | null;
  providerStatus: string;
  status: VerificationStatus;
}

/** The provider's authoritative view of a session, read through its API. */
export interface ProviderState {
  providerRef: string;
  providerStatus: string;
  status: VerificationStatus;
  /** When the provider last changed it, if it says; ISO 8601. */
  updatedAt: string | null;
  reasons: string[];
  document: DocumentData | null;
}

export interface ProviderAdapter {
  name: ProviderName;
  capabilities: ProviderCapabilities;
  /** Throws WebhookSignatureError; `now` is injectable for tests. */
  verifyWebhook(request: WebhookRequest, now?: Date): void;
  /** Throws MalformedWebhookError. */
  parseWebhook(rawBody: Buffer): NormalizedWebhook;
  createSession(input: CreateSessionInput): Promise<ProviderSession>;
  fetchState(providerRef: string): Promise<ProviderState>;
  /** A new hosted link for an existing session, where links are short-lived (Stripe account links). */
  refreshSession?(providerRef: string, verificationId: string): Promise<RefreshedSession>;
  /** Template providers (IDmeta style): the workflow runs each step as its own activity, then finalizes. */
  steps?: MultiStepApi;
}

export interface TemplateStep {
  /** The provider's step key (e.g. `document`, `selfie`, `database_check`). */
  key: string;
  /** Human-readable, shown in progress messages. */
  name: string;
}

export interface RunStepInput {
  providerRef: string;
  templateId: string | null;
  step: TemplateStep;
  stepIndex: number;
  /** Stable per verification and step, so a retried step is never run twice by the provider. */
  idempotencyKey: string;
  /**
   * Personal data a step sends to the provider (ID-number checks: number, names, birth date). Read
   * from the verification row by the activity, so it never enters workflow history or logs.
   */
  applicant?: StepApplicant | null;
}

export interface StepApplicant {
  firstName?: string;
  lastName?: string;
  /** YYYY-MM-DD */
  dateOfBirth?: string;
  /** The document number an ID check looks up (NBI clearance no., PRC licence no.). */
  idNumber?: string;
}

/** A template (IDmeta trust flow) as the provider lists it. */
export interface ProviderTemplate {
  /** The provider's own id: what clients pass as `templateId`. */
  externalId: string;
  name: string;
  steps: TemplateStep[];
  active: boolean;
  /** Provider details worth keeping (never secrets such as a template's webhook secret). */
  metadata: Record<string, unknown>;
}

export interface TemplatePageProgress {
  page: number;
  pages: number;
  fetched: number;
  total: number | null;
}

export interface MultiStepApi {
  /** Every template the account has, following the provider's pagination. */
  listTemplates(options?: { onPage?: (progress: TemplatePageProgress) => void }): Promise<ProviderTemplate[]>;
  /** The template's ordered steps (from the provider, or the synced cache). */
  listSteps(templateId: string | null): Promise<TemplateStep[]>;
  runStep(input: RunStepInput): Promise<void>;
  /** Ends the session and returns the provider's decision. */
  finalize(input: { providerRef: string; templateId: string | null }): Promise<ProviderState>;
}

export interface RefreshedSession {
  sessionUrl: string;
  expiresAt: string | null;
}
