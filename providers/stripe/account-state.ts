import type { VerificationStatus } from '../../domain/verification.ts';
import { isJsonObject, readStringList, readString } from '../json.ts';

// A Stripe Connect account has no single status field: seed 003's states are derived from its
// requirements and flags. One function reads an Account for both the webhook parser and the
// API client, so a webhook and a poll of the same account can never disagree.

/** Seed 003's account states, in the names the seed's users already know. */
export const STRIPE_ACCOUNT_STATES = ['initiated', 'pending', 'active', 'restricted', 'failed'] as const;
export type StripeAccountState = (typeof STRIPE_ACCOUNT_STATES)[number];

/** The Account fields the derivation reads; every one may be missing or null on the wire. */
export interface StripeAccountFields {
  charges_enabled?: boolean | null;
  payouts_enabled?: boolean | null;
  details_submitted?: boolean | null;
  requirements?: {
    disabled_reason?: string | null;
    currently_due?: readonly string[] | null;
    past_due?: readonly string[] | null;
    pending_verification?: readonly string[] | null;
  } | null;
}

export interface StripeStatusMapping {
  status: VerificationStatus;
  reasons: string[];
}

/** The account as veriflow reads it. */
export interface StripeAccountView {
  accountId: string;
  /** `metadata.verification_id` exactly as set (our uuid, when we created the account). */
  verificationId: string | null;
  state: StripeAccountState;
  status: VerificationStatus;
  reasons: string[];
  /** `requirements.disabled_reason`, e.g. `rejected.fraud`, `requirements.past_due`. */
  disabledReason: string | null;
}

// Stripe's disabled reasons that mean "Stripe is looking at it", as opposed to "waiting for input".
const UNDER_REVIEW_REASONS: ReadonlySet<string> = new Set(['under_review', 'requirements.pending_verification']);

const UNIFIED_STATUS: Record<StripeAccountState, VerificationStatus> = {
  active: 'approved',
  failed: 'declined',
  pending: 'in_progress',
  initiated: 'pending',
  // Input needed from the user: not a decision, so the client keeps waiting (providerStatus says why).
  restricted: 'pending',
};

/**
 * Seed 003's state, first match wins: rejected -> failed; charges and payouts enabled with nothing
 * currently or past due -> active; something being verified or under review -> pending; details
 * never submitted -> initiated; else restricted (Stripe needs more information).
 */
export function deriveStripeAccountState(account: StripeAccountFields): StripeAccountState {
  const requirements = account.requirements ?? {};
  const disabledReason = requirements.disabled_reason ?? null;
  if (disabledReason !== null && disabledReason.startsWith('rejected.')) return 'failed';
  if (
    account.charges_enabled === true &&
    account.payouts_enabled === true &&
    isEmpty(requirements.currently_due) &&
    isEmpty(requirements.past_due)
  ) {
    return 'active';
  }
  if (!isEmpty(requirements.pending_verification) || (disabledReason !== null && UNDER_REVIEW_REASONS.has(disabledReason)))
    return 'pending';
  if (account.details_submitted !== true) return 'initiated';
  return 'restricted';
}

/** Unified status; a failed account is declined with Stripe's disabled reason (`rejected.fraud`, …) as the reason. */
export function mapStripeAccountState(state: StripeAccountState, disabledReason: string | null = null): StripeStatusMapping {
  return { status: UNIFIED_STATUS[state], reasons: state === 'failed' && disabledReason !== null ? [disabledReason] : [] };
}

export function isStripeAccountState(value: unknown): value is StripeAccountState {
  return typeof value === 'string' && (STRIPE_ACCOUNT_STATES as readonly string[]).includes(value);
}

/** null when `value` is not an Account object (`{ id: "acct_…", object: "account", … }`). */
export function readStripeAccount(value: unknown): StripeAccountView | null {
  if (!isJsonObject(value)) return null;
  if (value.object !== undefined && value.object !== 'account') return null;
  const accountId = readString(value.id);
  if (accountId === null) return null;

  const requirementsValue = isJsonObject(value.requirements) ? value.requirements : {};
  const fields: StripeAccountFields = {
    charges_enabled: value.charges_enabled === true,
    payouts_enabled: value.payouts_enabled === true,
    details_submitted: value.details_submitted === true,
    requirements: {
      disabled_reason: readString(requirementsValue.disabled_reason),
      currently_due: readStringList(requirementsValue.currently_due),
      past_due: readStringList(requirementsValue.past_due),
      pending_verification: readStringList(requirementsValue.pending_verification),
    },
  };
  const state = deriveStripeAccountState(fields);
  const disabledReason = fields.requirements?.disabled_reason ?? null;
  const mapping = mapStripeAccountState(state, disabledReason);
  const metadata = isJsonObject(value.metadata) ? value.metadata : {};
  return {
    accountId,
    verificationId: readString(metadata.verification_id),
    state,
    status: mapping.status,
    reasons: mapping.reasons,
    disabledReason,
  };
}

function isEmpty(list: readonly string[] | null | undefined): boolean {
  return list === null || list === undefined || list.length === 0;
}
