import { escapeHtml, page } from '../html.ts';
import { STATUS_MESSAGE, type SimTemplate, type SimVerification } from './state.ts';

export const IDMETA_PAGES_PATH = '/idmeta';
export const verifyPath = (id: string) => `${IDMETA_PAGES_PATH}/verify/${encodeURIComponent(id)}`;

export const OUTCOMES = [
  { value: 'verified', label: 'Verified', className: 'approve', testId: 'outcome-verified' },
  { value: 'review_needed', label: 'Review needed', className: 'review', testId: 'outcome-review-needed' },
  { value: 'rejected', label: 'Rejected', className: 'decline', testId: 'outcome-rejected' },
] as const;
export type Outcome = (typeof OUTCOMES)[number]['value'];

/** The hosted multi-step flow: the template's steps in order, one button to complete the next. */
export function verifyPage(verification: SimVerification, notice: string | null = null): string {
  const next = verification.steps.find((s) => !s.completed);
  const rows = verification.steps
    .map(
      (step, index) =>
        `<tr data-testid="step-${index}"><td>${index + 1}. ${escapeHtml(step.name)}</td><td><code>${escapeHtml(step.key)}</code></td>` +
        `<td><span class="status">${step.completed ? `done (${escapeHtml(STATUS_MESSAGE[step.status])}, by ${escapeHtml(step.completedBy ?? '')})` : 'pending'}</span></td>` +
        `<td>${step.calls} calls · ${step.failures} failed${step.failuresLeft > 0 ? ` · ${step.failuresLeft} failures armed` : ''}</td></tr>`,
    )
    .join('\n');
  const outcomes = OUTCOMES.map(
    (o) => `<button type="submit" name="outcome" value="${o.value}" class="${o.className}" data-testid="${o.testId}">${o.label}</button>`,
  ).join('\n    ');
  const action = verifyPath(verification.id);
  const stepOptions = verification.steps.map((s) => `<option value="${escapeHtml(s.key)}">${escapeHtml(s.name)}</option>`).join('');
  return page(
    `Verify your identity · ${verification.id}`,
    `<h1>Verify your identity</h1>
  <p class="lead">Simulated IDmeta trust flow <strong>${escapeHtml(verification.templateName)}</strong>. ${
    notice === null ? 'Complete the steps one by one, or choose the outcome (it completes the rest and finalizes).' : escapeHtml(notice)
  }</p>
  <dl>
    <dt>Verification</dt><dd data-testid="verification-id">${escapeHtml(verification.id)}</dd>
    <dt>Template</dt><dd>${verification.templateId}</dd>
    <dt>Status</dt><dd data-testid="verification-status">${escapeHtml(STATUS_MESSAGE[verification.status])} (${verification.status})</dd>
  </dl>
  <table>
    <thead><tr><th>Step</th><th>Plan</th><th>State</th><th>API</th></tr></thead>
    <tbody>
${rows}
    </tbody>
  </table>
  <h2>Next</h2>
  <form class="actions" method="post" action="${action}">
    <input type="hidden" name="action" value="complete_step">
    <button type="submit" class="approve" data-testid="complete-step"${next === undefined ? ' disabled' : ''}>${next === undefined ? 'All steps completed' : `Complete step: ${escapeHtml(next.name)}`}</button>
  </form>
  <h2>Outcome</h2>
  <form class="actions" method="post" action="${action}">
    <input type="hidden" name="action" value="decide">
    ${outcomes}
  </form>
  <h2>Chaos</h2>
  <form class="actions" method="post" action="${action}">
    <input type="hidden" name="action" value="chaos">
    <label>Fail <select name="step">${stepOptions}</select></label>
    <label><input type="number" name="failures" min="0" max="1000" value="2" style="width:4rem"> times with 503</label>
    <button type="submit" class="review" data-testid="arm-chaos">Arm</button>
  </form>
  <p><a href="${IDMETA_PAGES_PATH}">All simulated IDmeta verifications</a></p>`,
  );
}

export function indexPage(templates: readonly SimTemplate[], verifications: readonly SimVerification[], outage: boolean): string {
  const rows =
    verifications.length === 0
      ? '<tr><td colspan="4">No verifications yet: create one through the API.</td></tr>'
      : verifications
          .map(
            (v) =>
              `<tr><td><a href="${escapeHtml(verifyPath(v.id))}">${escapeHtml(v.id)}</a></td><td>${escapeHtml(v.templateName)}</td>` +
              `<td><span class="status">${escapeHtml(STATUS_MESSAGE[v.status])}</span></td><td>${escapeHtml(v.createdAt.toISOString())}</td></tr>`,
          )
          .join('\n');
  const templateRows = templates
    .slice(0, 20)
    .map((t) => `<tr><td>${t.id}</td><td>${escapeHtml(t.name)}</td><td>${t.plans.map((p) => escapeHtml(p.key)).join(' → ')}</td></tr>`)
    .join('\n');
  return page(
    'IDmeta sandbox',
    `<h1>IDmeta sandbox</h1>
  <p class="lead">${templates.length} templates${outage ? ' · <strong>outage: every API call answers 503</strong>' : ''}.</p>
  <h2>Verifications</h2>
  <table><thead><tr><th>Verification</th><th>Template</th><th>Status</th><th>Created</th></tr></thead><tbody>
${rows}
  </tbody></table>
  <h2>Templates${templates.length > 20 ? ' (first 20)' : ''}</h2>
  <table><thead><tr><th>Id</th><th>Name</th><th>Steps</th></tr></thead><tbody>
${templateRows}
  </tbody></table>`,
  );
}

export function notFoundPage(what: string): string {
  return page(
    'Not found',
    `<h1>Not found</h1><p class="lead">${escapeHtml(what)}</p><p><a href="${IDMETA_PAGES_PATH}">All simulated IDmeta verifications</a></p>`,
  );
}
