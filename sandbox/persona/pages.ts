import { escapeHtml, page, referenceCell, type VerificationLink } from '../html.ts';
import type { PersonaDecision, SimulatedInquiry } from './state.ts';

export const VERIFY_PATH = '/persona/verify';

const DECISION_BUTTONS: readonly { decision: PersonaDecision; label: string; testId: string; className: string }[] = [
  { decision: 'approved', label: 'Approve', testId: 'approve', className: 'approve' },
  { decision: 'declined', label: 'Decline', testId: 'decline', className: 'decline' },
  { decision: 'needs_review', label: 'Needs review', testId: 'needs-review', className: 'review' },
];

/** The hosted flow: where the one-time link leads. Each button is a plain form post. */
export function verifyPage(inquiry: SimulatedInquiry): string {
  const decided = inquiry.status !== 'created';
  const buttons = DECISION_BUTTONS.map(
    (button) =>
      `<button type="submit" name="decision" value="${button.decision}" class="${button.className}" data-testid="${button.testId}">${button.label}</button>`,
  ).join('\n    ');
  return page(
    `Verify your identity · ${inquiry.id}`,
    `<h1>Verify your identity</h1>
  <p class="lead">${
    decided
      ? 'This inquiry already has a result. Deciding again acts like a reviewer changing it in the dashboard.'
      : 'Simulated Persona hosted flow. Choose the outcome the provider should report.'
  }</p>
  <dl>
    <dt>Inquiry</dt><dd data-testid="inquiry-id">${escapeHtml(inquiry.id)}</dd>
    <dt>Reference</dt><dd>${escapeHtml(inquiry.referenceId ?? '(none)')}</dd>
    <dt>Status</dt><dd data-testid="inquiry-status">${escapeHtml(inquiry.status)}</dd>
    <dt>Link expires</dt><dd>${escapeHtml(inquiry.expiresAt.toISOString())}</dd>
  </dl>
  <form class="actions" method="post" action="${VERIFY_PATH}">
    <input type="hidden" name="inquiry-id" value="${escapeHtml(inquiry.id)}">
    ${buttons}
  </form>`,
  );
}

export function decisionSentPage(inquiry: SimulatedInquiry, decision: PersonaDecision): string {
  return page(
    'Decision sent',
    `<h1 data-testid="decision-result">Decision sent: ${escapeHtml(decision)}. You can close this tab.</h1>
  <p class="lead">Persona would now notify the integration; the sandbox is sending the signed webhooks.</p>
  <dl><dt>Inquiry</dt><dd>${escapeHtml(inquiry.id)}</dd></dl>
  <p><a href="/">All simulated inquiries</a></p>`,
  );
}

export function notFoundPage(what: string): string {
  return page('Not found', `<h1>Not found</h1><p class="lead">${escapeHtml(what)}</p><p><a href="/">All simulated inquiries</a></p>`);
}

/** Rows for the sandbox index. */
export function inquiryRows(inquiries: readonly SimulatedInquiry[], verificationLink?: VerificationLink): string {
  if (inquiries.length === 0) return '<tr><td colspan="4">No inquiries yet: create one through the API.</td></tr>';
  return inquiries
    .map((inquiry) => {
      const link = `${VERIFY_PATH}?inquiry-id=${encodeURIComponent(inquiry.id)}`;
      return `<tr><td><a href="${escapeHtml(link)}">${escapeHtml(inquiry.id)}</a></td>${referenceCell(inquiry.referenceId, verificationLink)}<td><span class="status">${escapeHtml(inquiry.status)}</span></td><td>${escapeHtml(
        inquiry.createdAt.toISOString(),
      )}</td></tr>`;
    })
    .join('\n');
}
