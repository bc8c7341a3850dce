import { escapeHtml, page, referenceCell, type VerificationLink } from '../html.ts';
import type { SimulatedAccount, StripeAction } from './state.ts';

export const ONBOARDING_PATH = '/stripe/onboarding';

const ACTION_BUTTONS: readonly { action: StripeAction; label: string; testId: string; className: string; hint: string }[] = [
  {
    action: 'submit',
    label: 'Submit details',
    testId: 'submit-details',
    className: 'review',
    hint: 'The user finishes onboarding; Stripe starts verifying.',
  },
  {
    action: 'verify',
    label: 'Verify',
    testId: 'verify',
    className: 'approve',
    hint: 'Stripe verifies the account: charges and payouts enabled.',
  },
  { action: 'reject', label: 'Reject', testId: 'reject', className: 'decline', hint: 'Stripe rejects the account (rejected.fraud).' },
  {
    action: 'require_info',
    label: 'Require more info',
    testId: 'require-info',
    className: 'review',
    hint: 'A document failed: input needed.',
  },
  { action: 'reverify', label: 'Re-verify', testId: 'reverify', className: 'review', hint: 'An active account goes back to verification.' },
];

/** The hosted onboarding flow (where an account link leads), with the review outcomes Stripe would decide. */
export function onboardingPage(account: SimulatedAccount): string {
  const object = account.object;
  const requirements = object.requirements;
  const list = (value: unknown) => (Array.isArray(value) && value.length > 0 ? value.join(', ') : '(none)');
  const buttons = ACTION_BUTTONS.map(
    (button) =>
      `<button type="submit" name="action" value="${button.action}" class="${button.className}" data-testid="${button.testId}" title="${escapeHtml(button.hint)}">${button.label}</button>`,
  ).join('\n    ');
  return page(
    `Stripe onboarding · ${account.id}`,
    `<h1>Set up payouts</h1>
  <p class="lead">Simulated Stripe Connect Express onboarding. Each button changes the account and sends a signed <code>account.updated</code> webhook.</p>
  <dl>
    <dt>Account</dt><dd data-testid="account-id">${escapeHtml(account.id)}</dd>
    <dt>Phase</dt><dd data-testid="account-phase">${escapeHtml(account.phase)}</dd>
    <dt>Details submitted</dt><dd>${String(object.details_submitted)}</dd>
    <dt>Charges / payouts</dt><dd>${String(object.charges_enabled)} / ${String(object.payouts_enabled)}</dd>
    <dt>Currently due</dt><dd>${escapeHtml(list(requirements.currently_due))}</dd>
    <dt>Pending verification</dt><dd>${escapeHtml(list(requirements.pending_verification))}</dd>
    <dt>Disabled reason</dt><dd data-testid="disabled-reason">${escapeHtml(String(requirements.disabled_reason ?? '(none)'))}</dd>
  </dl>
  <form class="actions" method="post" action="${ONBOARDING_PATH}/${encodeURIComponent(account.id)}">
    ${buttons}
  </form>`,
  );
}

export function actionSentPage(account: SimulatedAccount, action: StripeAction, returnUrl: string | null): string {
  const back = returnUrl === null ? '' : `<p><a data-testid="return-link" href="${escapeHtml(returnUrl)}">Return to the platform</a></p>`;
  return page(
    'Account updated',
    `<h1 data-testid="action-result">Account updated: ${escapeHtml(action)}.</h1>
  <p class="lead">Stripe would now notify the platform; the sandbox is sending the signed <code>account.updated</code> webhook.</p>
  <dl><dt>Account</dt><dd>${escapeHtml(account.id)}</dd><dt>Phase</dt><dd>${escapeHtml(account.phase)}</dd></dl>
  ${back}
  <p><a href="${ONBOARDING_PATH}/${encodeURIComponent(account.id)}">Back to the account</a> · <a href="/">All simulated accounts</a></p>`,
  );
}

export function stripeNotFoundPage(what: string): string {
  return page('Not found', `<h1>Not found</h1><p class="lead">${escapeHtml(what)}</p><p><a href="/">Sandbox home</a></p>`);
}

/** Rows for the sandbox index. */
export function accountRows(accounts: readonly SimulatedAccount[], verificationLink?: VerificationLink): string {
  if (accounts.length === 0) return '<tr><td colspan="4">No accounts yet: create one through the API.</td></tr>';
  return accounts
    .map((account) => {
      const link = `${ONBOARDING_PATH}/${encodeURIComponent(account.id)}`;
      const verificationId = account.object.metadata.verification_id ?? null;
      const created = new Date(Number(account.object.created) * 1000).toISOString();
      return `<tr><td><a href="${escapeHtml(link)}">${escapeHtml(account.id)}</a></td>${referenceCell(verificationId, verificationLink)}<td><span class="status">${escapeHtml(
        account.phase,
      )}</span></td><td>${escapeHtml(created)}</td></tr>`;
    })
    .join('\n');
}
