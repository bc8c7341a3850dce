import t from 'tap';
import {
  STRIPE_ACCOUNT_STATES,
  deriveStripeAccountState,
  isStripeAccountState,
  mapStripeAccountState,
  readStripeAccount,
  type StripeAccountFields,
} from '../../providers/stripe/account-state.ts';

const active: StripeAccountFields = {
  charges_enabled: true,
  payouts_enabled: true,
  details_submitted: true,
  requirements: { disabled_reason: null, currently_due: [], past_due: [], pending_verification: [] },
};
const fresh: StripeAccountFields = {
  charges_enabled: false,
  payouts_enabled: false,
  details_submitted: false,
  requirements: {
    disabled_reason: 'requirements.past_due',
    currently_due: ['business_type', 'external_account'],
    past_due: ['business_type'],
    pending_verification: [],
  },
};
const with_ = (base: StripeAccountFields, changes: StripeAccountFields): StripeAccountFields => ({
  ...base,
  ...changes,
  requirements: { ...base.requirements, ...changes.requirements },
});

t.test('derivation: every branch of seed 003, first match wins', async (tt) => {
  const table: [string, StripeAccountFields, string][] = [
    // failed: rejected.* wins over everything, even charges and payouts enabled.
    ['rejected.fraud', with_(fresh, { requirements: { disabled_reason: 'rejected.fraud' } }), 'failed'],
    [
      'rejected.terms_of_service on an otherwise active account',
      with_(active, { requirements: { disabled_reason: 'rejected.terms_of_service' } }),
      'failed',
    ],
    [
      'rejected.other with pending verification',
      with_(fresh, { requirements: { disabled_reason: 'rejected.other', pending_verification: ['individual.id_number'] } }),
      'failed',
    ],
    // active
    ['charges + payouts, nothing due', active, 'active'],
    [
      'active while something is pending verification (not due)',
      with_(active, { requirements: { pending_verification: ['individual.verification.document'] } }),
      'active',
    ],
    ['disabled_reason "listed" is not rejected', with_(active, { requirements: { disabled_reason: 'listed' } }), 'active'],
    // not active: one flag or a due list is enough
    [
      'payouts disabled, pending verification',
      with_(active, { payouts_enabled: false, requirements: { pending_verification: ['individual.verification.document'] } }),
      'pending',
    ],
    [
      'charges disabled, under_review',
      with_(active, { charges_enabled: false, requirements: { disabled_reason: 'under_review' } }),
      'pending',
    ],
    ['currently_due blocks active', with_(active, { requirements: { currently_due: ['individual.verification.document'] } }), 'restricted'],
    ['past_due blocks active', with_(active, { requirements: { past_due: ['external_account'] } }), 'restricted'],
    // pending
    [
      'pending_verification non-empty',
      with_(fresh, {
        details_submitted: true,
        requirements: { currently_due: [], past_due: [], disabled_reason: null, pending_verification: ['individual.id_number'] },
      }),
      'pending',
    ],
    [
      'disabled_reason requirements.pending_verification',
      with_(fresh, {
        details_submitted: true,
        requirements: { currently_due: [], past_due: [], disabled_reason: 'requirements.pending_verification' },
      }),
      'pending',
    ],
    [
      'disabled_reason under_review',
      with_(fresh, { details_submitted: true, requirements: { disabled_reason: 'under_review' } }),
      'pending',
    ],
    [
      'pending before details_submitted is looked at',
      with_(fresh, { requirements: { pending_verification: ['individual.id_number'] } }),
      'pending',
    ],
    // initiated
    ['new account, details not submitted', fresh, 'initiated'],
    ['details_submitted missing', { requirements: {} }, 'initiated'],
    ['an empty object', {}, 'initiated'],
    // restricted
    [
      'submitted, input needed',
      with_(fresh, {
        details_submitted: true,
        requirements: { disabled_reason: 'requirements.past_due', currently_due: ['individual.verification.document'] },
      }),
      'restricted',
    ],
    [
      'submitted, disabled for another reason',
      with_(fresh, { details_submitted: true, requirements: { disabled_reason: 'platform_paused', currently_due: [], past_due: [] } }),
      'restricted',
    ],
    ['submitted, no requirements object', { details_submitted: true, requirements: null }, 'restricted'],
  ];
  for (const [name, account, expected] of table) tt.equal(deriveStripeAccountState(account), expected, name);
});

t.test(
  'unified status: active->approved, failed->declined with the reason, pending->in_progress, initiated/restricted->pending',
  async (tt) => {
    tt.same(mapStripeAccountState('active'), { status: 'approved', reasons: [] });
    tt.same(mapStripeAccountState('failed', 'rejected.fraud'), { status: 'declined', reasons: ['rejected.fraud'] });
    tt.same(mapStripeAccountState('failed'), { status: 'declined', reasons: [] }, 'no reason known: none invented');
    tt.same(mapStripeAccountState('pending', 'requirements.pending_verification'), { status: 'in_progress', reasons: [] });
    tt.same(mapStripeAccountState('initiated', 'requirements.past_due'), { status: 'pending', reasons: [] });
    tt.same(mapStripeAccountState('restricted', 'requirements.past_due'), { status: 'pending', reasons: [] });
    tt.same([...STRIPE_ACCOUNT_STATES].sort(), ['active', 'failed', 'initiated', 'pending', 'restricted']);
    tt.ok(isStripeAccountState('active'));
    tt.notOk(isStripeAccountState('approved'));
    tt.notOk(isStripeAccountState(undefined));
  },
);

t.test('readStripeAccount reads a wire Account defensively', async (tt) => {
  const view = readStripeAccount({
    id: 'acct_1Abc',
    object: 'account',
    charges_enabled: false,
    payouts_enabled: false,
    details_submitted: true,
    metadata: { verification_id: '3f1c2b9e-8d4a-4c1e-9f2b-7a6d5e4c3b21' },
    requirements: { disabled_reason: 'rejected.fraud', currently_due: [], past_due: null, pending_verification: [1, 'x'] },
  });
  tt.same(view, {
    accountId: 'acct_1Abc',
    verificationId: '3f1c2b9e-8d4a-4c1e-9f2b-7a6d5e4c3b21',
    state: 'failed',
    status: 'declined',
    reasons: ['rejected.fraud'],
    disabledReason: 'rejected.fraud',
  });
  tt.equal(
    readStripeAccount({ id: 'acct_1', charges_enabled: 'true', payouts_enabled: 1, details_submitted: 'yes' })?.state,
    'initiated',
    'truthy non-booleans are not true',
  );
  tt.equal(readStripeAccount({ id: 'acct_1' })?.verificationId, null);
  tt.equal(readStripeAccount({ id: 'acct_1', metadata: { verification_id: '  ' } })?.verificationId, null);
  tt.equal(readStripeAccount({ id: 'cus_1', object: 'customer' }), null, 'another object');
  tt.equal(readStripeAccount({ object: 'account' }), null, 'no id');
  tt.equal(readStripeAccount([]), null);
  tt.equal(readStripeAccount(null), null);
});
