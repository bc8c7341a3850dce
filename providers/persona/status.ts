import type { VerificationStatus } from '../../domain/verification.ts';

export const PERSONA_INQUIRY_STATUSES = [
  'created',
  'pending',
  'completed',
  'needs_review',
  'approved',
  'declined',
  'failed',
  'expired',
] as const;
export type PersonaInquiryStatus = (typeof PERSONA_INQUIRY_STATUSES)[number];

export interface PersonaStatusMapping {
  status: VerificationStatus;
  reasons: string[];
}

// `completed` only means the user finished the flow: the decision (approved / declined /
// needs_review) comes after it, so it must not read as a result. `failed` is Persona giving up
// after too many attempts, which for the client is a decline with a reason.
const UNIFIED_STATUS: Record<PersonaInquiryStatus, PersonaStatusMapping> = {
  created: { status: 'created', reasons: [] },
  pending: { status: 'in_progress', reasons: [] },
  completed: { status: 'in_progress', reasons: [] },
  needs_review: { status: 'needs_review', reasons: [] },
  approved: { status: 'approved', reasons: [] },
  declined: { status: 'declined', reasons: [] },
  failed: { status: 'declined', reasons: ['failed'] },
  expired: { status: 'expired', reasons: [] },
};

// `inquiry.transitioned` is absent on purpose: it names no status, its payload does.
const EVENT_STATUS: Readonly<Record<string, PersonaInquiryStatus>> = {
  'inquiry.created': 'created',
  'inquiry.started': 'pending',
  'inquiry.completed': 'completed',
  'inquiry.failed': 'failed',
  'inquiry.expired': 'expired',
  'inquiry.approved': 'approved',
  'inquiry.declined': 'declined',
  'inquiry.marked-for-review': 'needs_review',
};

export function isPersonaInquiryStatus(value: unknown): value is PersonaInquiryStatus {
  return typeof value === 'string' && (PERSONA_INQUIRY_STATUSES as readonly string[]).includes(value);
}

/** Unified status for a Persona inquiry status; null for a status we do not know (never a guess). */
export function mapPersonaStatus(status: string): PersonaStatusMapping | null {
  if (!isPersonaInquiryStatus(status)) return null;
  const mapping = UNIFIED_STATUS[status];
  return { status: mapping.status, reasons: [...mapping.reasons] };
}

/** The inquiry status an event name implies, or null when the name implies none. */
export function personaStatusForEvent(eventName: string): PersonaInquiryStatus | null {
  return Object.hasOwn(EVENT_STATUS, eventName) ? (EVENT_STATUS[eventName] ?? null) : null;
}

/**
 * The inquiry status an event stands for. The payload's own `status` wins: it is the inquiry as
 * Persona serialized it for this event, and it is the only source for `inquiry.transitioned`.
 * An unknown payload status falls back to the event name rather than to a guess.
 */
export function resolvePersonaStatus(input: { eventName: string | null; payloadStatus: unknown }): PersonaInquiryStatus | null {
  if (isPersonaInquiryStatus(input.payloadStatus)) return input.payloadStatus;
  return input.eventName === null ? null : personaStatusForEvent(input.eventName);
}
