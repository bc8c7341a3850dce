// The domain vocabulary shared by every layer. Pure data and types: no imports, no I/O, safe in
// the workflow bundle. Workflows, providers, api and activities all speak these words, so a
// status literal is never spelled twice.

export const VERIFICATION_STATUSES = [
  'created',
  'pending',
  'in_progress',
  'needs_review',
  'approved',
  'declined',
  'expired',
  'canceled',
  'error',
] as const;
export type VerificationStatus = (typeof VERIFICATION_STATUSES)[number];

export const TERMINAL_STATUSES: readonly VerificationStatus[] = ['approved', 'declined', 'expired', 'canceled', 'error'];

export function isTerminalStatus(status: VerificationStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export const PROVIDER_NAMES = ['persona', 'stripe', 'smileid', 'idmeta'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export function isProviderName(value: string): value is ProviderName {
  return (PROVIDER_NAMES as readonly string[]).includes(value);
}

export const EVENT_SOURCES = ['api', 'webhook', 'poll', 'timer', 'operator'] as const;
export type EventSource = (typeof EVENT_SOURCES)[number];

/**
 * A provider event after signature check and normalization. Carries no personal data: the
 * document stays in the stored webhook payload and is read by an activity.
 */
export interface ProviderEvent {
  provider: ProviderName;
  /** The provider's own event id: the dedupe key. */
  providerEventId: string;
  /** The provider's event time (Persona `created-at`, Stripe `created`), ISO 8601. Orders events. */
  occurredAt: string;
  eventType: string;
  providerStatus: string;
  status: VerificationStatus;
  /** Machine-readable reason codes (e.g. `failed`, `rejected.fraud`); never free text from a person. */
  reasons: string[];
  /** Row id in webhook_events, so an activity can read the stored payload (document data). */
  webhookEventId: string | null;
  /** The event withdraws the provider's decision (Stripe deauthorization): the event is the fact, no read shows it. */
  revokes?: boolean;
}
