import { createHash, randomBytes } from 'node:crypto';
import type { FormObject } from './form.ts';

// Simulated Connect accounts in memory. Each account is kept as the Account object Stripe would
// return, and the hosted-flow actions edit its fields the way Stripe's onboarding and review do.

export const STRIPE_ACTIONS = ['submit', 'verify', 'reject', 'require_info', 'reverify'] as const;
export type StripeAction = (typeof STRIPE_ACTIONS)[number];

/** The sandbox's own name for where an account is (its model, independent of how the app derives it). */
export type SimulatedPhase = 'onboarding' | 'in_review' | 'enabled' | 'rejected' | 'needs_info';

export function isStripeAction(value: unknown): value is StripeAction {
  return typeof value === 'string' && (STRIPE_ACTIONS as readonly string[]).includes(value);
}

export type Json = Record<string, unknown>;

export interface SimulatedAccount {
  id: string;
  phase: SimulatedPhase;
  /** The Account object as the API returns it; mutated in place by actions. */
  object: Json & { requirements: Json; capabilities: Record<string, string>; metadata: Record<string, string> };
}

export interface SimulatedLink {
  id: string;
  accountId: string;
  refreshUrl: string;
  returnUrl: string;
  createdAt: number;
  expiresAt: number;
  visited: boolean;
}

/** An account change worth an `account.updated` event: the account right after, and what it was before. */
export interface AccountChange {
  account: Json;
  previousAttributes: Json;
  created: number;
}

export class StripeRequestError extends Error {
  readonly status: number;
  readonly body: { type: string; message: string; code?: string; param?: string };
  constructor(status: number, body: StripeRequestError['body']) {
    super(body.message);
    this.status = status;
    this.body = body;
  }
}

// Stripe's links live about 5 minutes.
const LINK_TTL_SECONDS = 300;
// What a new Express account must provide before Stripe can review it.
const ONBOARDING_FIELDS = [
  'business_type',
  'external_account',
  'individual.first_name',
  'individual.last_name',
  'tos_acceptance.date',
  'tos_acceptance.ip',
];
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Stripe-looking ids: `acct_1…`, `evt_1…`. */
export function stripeId(prefix: string, length = 24): string {
  return `${prefix}_1${[...randomBytes(length - 1)].map((byte) => ALPHANUMERIC[byte % ALPHANUMERIC.length]).join('')}`;
}

const emptyRequirements = (): Json => ({
  alternatives: [],
  current_deadline: null,
  currently_due: [],
  disabled_reason: null,
  errors: [],
  eventually_due: [],
  past_due: [],
  pending_verification: [],
});

export function createAccountStore(now: () => Date = () => new Date()) {
  const accounts = new Map<string, SimulatedAccount>();
  const links = new Map<string, SimulatedLink>();
  const byIdempotencyKey = new Map<string, { accountId: string; fingerprint: string }>();
  let lastEventSecond = 0;

  const nowSeconds = () => Math.floor(now().getTime() / 1000);

  return {
    /**
     * Event `created` times, strictly increasing: Stripe's are whole seconds and often equal,
     * but the sandbox's clicks must order, so a quick second click takes the next second.
     */
    eventTime(): number {
      lastEventSecond = Math.max(nowSeconds(), lastEventSecond + 1);
      return lastEventSecond;
    },

    /** Same key and parameters: the same account (`replayed`); same key, other parameters: Stripe's idempotency error. */
    create(params: FormObject, idempotencyKey: string | null): { account: SimulatedAccount; replayed: boolean } {
      const fingerprint = createHash('sha256').update(JSON.stringify(params)).digest('hex');
      const known = idempotencyKey === null ? undefined : byIdempotencyKey.get(idempotencyKey);
      if (known !== undefined) {
        if (known.fingerprint !== fingerprint) {
          throw new StripeRequestError(400, {
            type: 'idempotency_error',
            message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
          });
        }
        return { account: accounts.get(known.accountId)!, replayed: true };
      }

      const type = params.type ?? 'express';
      if (typeof type !== 'string' || !['express', 'standard', 'custom'].includes(type)) {
        throw new StripeRequestError(400, {
          type: 'invalid_request_error',
          message: `Invalid type: must be one of express, standard, or custom`,
          param: 'type',
        });
      }
      const metadata = typeof params.metadata === 'object' ? flatStrings(params.metadata) : {};
      const requested = typeof params.capabilities === 'object' ? Object.keys(params.capabilities) : [];
      const id = stripeId('acct', 16);
      const account: SimulatedAccount = {
        id,
        phase: 'onboarding',
        object: {
          id,
          object: 'account',
          business_profile: {
            mcc: null,
            name: null,
            product_description: null,
            support_email: null,
            support_phone: null,
            support_url: null,
            url: null,
          },
          business_type: null,
          capabilities: Object.fromEntries(requested.map((name) => [name, 'inactive'])),
          charges_enabled: false,
          controller: {
            fees: { payer: 'application_express' },
            is_controller: true,
            losses: { payments: 'application' },
            requirement_collection: 'stripe',
            stripe_dashboard: { type: 'express' },
            type: 'application',
          },
          country: typeof params.country === 'string' ? params.country : 'US',
          created: nowSeconds(),
          default_currency: 'usd',
          details_submitted: false,
          email: typeof params.email === 'string' ? params.email : null,
          external_accounts: { object: 'list', data: [], has_more: false, total_count: 0, url: `/v1/accounts/${id}/external_accounts` },
          future_requirements: emptyRequirements(),
          metadata,
          payouts_enabled: false,
          requirements: {
            ...emptyRequirements(),
            currently_due: [...ONBOARDING_FIELDS],
            eventually_due: [...ONBOARDING_FIELDS],
            past_due: [...ONBOARDING_FIELDS],
            disabled_reason: 'requirements.past_due',
          },
          settings: {
            payouts: { debit_negative_balances: true, schedule: { delay_days: 2, interval: 'daily' }, statement_descriptor: null },
          },
          tos_acceptance: { date: null },
          type,
        },
      };
      accounts.set(id, account);
      if (idempotencyKey !== null) byIdempotencyKey.set(idempotencyKey, { accountId: id, fingerprint });
      return { account, replayed: false };
    },

    get: (id: string) => accounts.get(id),

    list: () => [...accounts.values()].sort((a, b) => Number(b.object.created) - Number(a.object.created)),

    createLink(params: FormObject): SimulatedLink {
      const accountId = typeof params.account === 'string' ? params.account : '';
      if (accountId === '')
        throw new StripeRequestError(400, {
          type: 'invalid_request_error',
          message: 'Missing required param: account.',
          code: 'parameter_missing',
          param: 'account',
        });
      if (!accounts.has(accountId)) {
        throw new StripeRequestError(400, {
          type: 'invalid_request_error',
          message: `No such account: '${accountId}'`,
          code: 'resource_missing',
          param: 'account',
        });
      }
      for (const param of ['type', 'refresh_url', 'return_url'] as const) {
        if (typeof params[param] !== 'string' || params[param] === '') {
          throw new StripeRequestError(400, {
            type: 'invalid_request_error',
            message: `Missing required param: ${param}.`,
            code: 'parameter_missing',
            param,
          });
        }
      }
      if (params.type !== 'account_onboarding' && params.type !== 'account_update') {
        throw new StripeRequestError(400, {
          type: 'invalid_request_error',
          message: 'Invalid type: must be one of account_onboarding or account_update',
          param: 'type',
        });
      }
      const createdAt = nowSeconds();
      const link: SimulatedLink = {
        id: randomBytes(12).toString('base64url'),
        accountId,
        refreshUrl: params.refresh_url as string,
        returnUrl: params.return_url as string,
        createdAt,
        expiresAt: createdAt + LINK_TTL_SECONDS,
        visited: false,
      };
      links.set(link.id, link);
      return link;
    },

    /** Like Stripe: a link is good once and until it expires; after that it sends the user to refresh_url. */
    openLink(accountId: string, linkId: string): { link: SimulatedLink; usable: boolean } | null {
      const link = links.get(linkId);
      if (link === undefined || link.accountId !== accountId) return null;
      const usable = !link.visited && nowSeconds() < link.expiresAt;
      link.visited = true;
      return { link, usable };
    },

    /** The latest link's return_url, so the hosted page can send the user back to the platform. */
    returnUrlOf(accountId: string): string | null {
      let latest: SimulatedLink | null = null;
      for (const link of links.values())
        if (link.accountId === accountId && (latest === null || link.createdAt >= latest.createdAt)) latest = link;
      return latest?.returnUrl ?? null;
    },

    /** Applies a hosted-flow action; null when the account is unknown. Throws for an action the phase does not allow. */
    act(accountId: string, action: StripeAction, created: number): AccountChange | null {
      const account = accounts.get(accountId);
      if (account === undefined) return null;
      if (action === 'reverify' && account.phase !== 'enabled') {
        throw new StripeRequestError(409, {
          type: 'invalid_request_error',
          message: 'Only an enabled (active) account can be sent back to verification.',
        });
      }
      const before = structuredClone(account.object);
      applyAction(account, action, created);
      return { account: structuredClone(account.object), previousAttributes: previousAttributes(before, account.object), created };
    },
  };
}

export type AccountStore = ReturnType<typeof createAccountStore>;

function applyAction(account: SimulatedAccount, action: StripeAction, at: number): void {
  const object = account.object;
  const setCapabilities = (value: string) => {
    for (const name of Object.keys(object.capabilities)) object.capabilities[name] = value;
  };
  const requirements = (fields: Json) => {
    object.requirements = { ...emptyRequirements(), ...fields };
  };
  switch (action) {
    case 'submit':
      account.phase = 'in_review';
      object.business_type = 'individual';
      object.details_submitted = true;
      object.tos_acceptance = { date: at, ip: '203.0.113.7', user_agent: 'veriflow-sandbox' };
      object.external_accounts = { ...(object.external_accounts as Json), total_count: 1 };
      object.charges_enabled = false;
      object.payouts_enabled = false;
      setCapabilities('pending');
      requirements({
        pending_verification: ['individual.id_number', 'individual.verification.document'],
        disabled_reason: 'requirements.pending_verification',
      });
      return;
    case 'verify':
      account.phase = 'enabled';
      object.details_submitted = true;
      object.charges_enabled = true;
      object.payouts_enabled = true;
      setCapabilities('active');
      requirements({});
      return;
    case 'reject':
      account.phase = 'rejected';
      object.charges_enabled = false;
      object.payouts_enabled = false;
      setCapabilities('inactive');
      requirements({ disabled_reason: 'rejected.fraud' });
      return;
    case 'require_info':
      account.phase = 'needs_info';
      object.details_submitted = true;
      object.charges_enabled = false;
      object.payouts_enabled = false;
      setCapabilities('inactive');
      requirements({
        current_deadline: at + 14 * 24 * 3600,
        currently_due: ['individual.verification.document'],
        eventually_due: ['individual.verification.document'],
        past_due: ['individual.verification.document'],
        errors: [
          {
            code: 'verification_document_failed_other',
            reason: 'The document could not be verified. Upload a clearer photo.',
            requirement: 'individual.verification.document',
          },
        ],
        disabled_reason: 'requirements.past_due',
      });
      return;
    case 'reverify':
      // Stripe's periodic re-verification: payments continue, payouts pause until it is reviewed.
      account.phase = 'in_review';
      object.payouts_enabled = false;
      if ('transfers' in object.capabilities) object.capabilities.transfers = 'pending';
      requirements({ pending_verification: ['individual.verification.document'], disabled_reason: 'requirements.pending_verification' });
      return;
  }
}

/**
 * Stripe's `previous_attributes`: the old values of what changed; nested objects list only their
 * changed keys, lists and scalars are given whole.
 */
export function previousAttributes(before: Json, after: Json): Json {
  const changed: Json = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const old = before[key];
    const now = after[key];
    if (JSON.stringify(old) === JSON.stringify(now)) continue;
    changed[key] = isPlainObject(old) && isPlainObject(now) ? previousAttributes(old, now) : (old ?? null);
  }
  return changed;
}

function isPlainObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function flatStrings(form: FormObject): Record<string, string> {
  return Object.fromEntries(Object.entries(form).flatMap(([key, value]) => (typeof value === 'string' ? [[key, value]] : [])));
}
