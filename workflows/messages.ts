// Signals, queries and updates of the verification workflow, defined once and shared by the
// workflow, the API and tests. Importing this file never drags the workflow body along.
import { defineSearchAttributeKey } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ErasedBy } from '../domain/personal-data-erasure.ts';
import type { ProviderBehaviour } from '../domain/provider-capabilities.ts';
import type { VerificationTimers } from '../domain/timers.ts';
import type { ProviderEvent, ProviderName, VerificationStatus } from '../domain/verification.ts';
import type { VerificationState } from './state.ts';

export const VERIFICATION_WORKFLOW_TYPE = 'verification';

/** No PII in workflow ids: the verification's own uuid only. */
export function verificationWorkflowId(verificationId: string): string {
  return `verification-${verificationId}`;
}

export const searchAttributes = {
  status: defineSearchAttributeKey('VerificationStatus', 'KEYWORD'),
  provider: defineSearchAttributeKey('VerificationProvider', 'KEYWORD'),
  tenantId: defineSearchAttributeKey('TenantId', 'KEYWORD'),
};

export interface SessionRef {
  providerRef: string;
  expiresAt: string | null;
}

/** What continue-as-new carries into the next run. */
export interface CarriedState {
  state: VerificationState;
  session: SessionRef | null;
  nextPollAt: number | null;
  /** A recheck of the provider due before the fallback poll (absent in runs carried before it existed). */
  recheckAt?: number | null;
  decidedAt: number | null;
  /** Newest provider event time seen (provider's clock), to spot stale webhooks without asking the provider. */
  newestProviderEventAt?: number;
  inbox: ProviderEvent[];
}

export interface VerificationWorkflowInput {
  verificationId: string;
  tenantId: string;
  provider: ProviderName;
  templateId: string | null;
  behaviour: ProviderBehaviour;
  timers: VerificationTimers;
  /** Continue-as-new after this many history entries even if Temporal has not suggested it yet. */
  continueAsNewAfterEvents?: number;
  /** Email the hosted link to the applicant once the session exists (the address stays in Postgres). */
  notify?: { email?: boolean };
  carried?: CarriedState;
}

export interface VerificationView {
  verificationId: string;
  provider: ProviderName;
  status: VerificationStatus;
  providerStatus: string | null;
  reasons: string[];
  providerRef: string | null;
  expiresAt: string | null;
  /** History entries recorded so far. */
  events: number;
  /** Signals received and not yet applied. */
  pendingEvents: number;
}

export interface CancelInput {
  reason?: string;
}

export interface ReviewInput {
  decision: 'approved' | 'declined';
  reason: string;
}

export const providerEventSignal = defineSignal<[ProviderEvent]>('providerEvent');
export const getStateQuery = defineQuery<VerificationView>('getState');
export const cancelUpdate = defineUpdate<VerificationView, [CancelInput]>('cancel');
export const reviewUpdate = defineUpdate<VerificationView, [ReviewInput]>('review');

// Outbound webhooks: one child workflow per delivery row, retried on a durable schedule, each
// waiting its turn behind the verification's earlier deliveries.
export const WEBHOOK_DELIVERY_WORKFLOW_TYPE = 'webhookDelivery';

/** Sent to the next delivery in line when one succeeded or went dead: its turn may have come. */
export const deliveryTurnSignal = defineSignal('deliveryTurn');

/** The delivery's uuid only (no PII); a manual retry runs as `…-retry-<n>`. */
export function webhookDeliveryWorkflowId(deliveryId: string, retry = 0): string {
  return retry === 0 ? `webhook-delivery-${deliveryId}` : `webhook-delivery-${deliveryId}-retry-${retry}`;
}

export interface WebhookDeliveryInput {
  deliveryId: string;
  /** The row's manual-retry generation this run belongs to; a newer retry supersedes it. */
  generation: number;
  /** Wait before each retry; after the last, the delivery is dead. */
  retryScheduleMs: number[];
}

// Personal data: erasure on request (one workflow per verification) and the retention sweep a
// schedule starts. Inputs carry ids only, never the data being erased.
export const PERSONAL_DATA_ERASURE_WORKFLOW_TYPE = 'personalDataErasure';
export const PERSONAL_DATA_RETENTION_WORKFLOW_TYPE = 'personalDataRetention';

export function personalDataErasureWorkflowId(verificationId: string): string {
  return `personal-data-erasure-${verificationId}`;
}

export interface PersonalDataErasureInput {
  verificationId: string;
  erasedBy: ErasedBy;
  apiKeyId: string | null;
  /** Outbound webhook retry waits for the `verification.personal_data_erased` delivery. */
  retryScheduleMs: number[];
}

export interface PersonalDataRetentionInput {
  /** Personal data of a verification decided longer ago than this is erased. */
  retentionMs: number;
  retryScheduleMs: number[];
}
