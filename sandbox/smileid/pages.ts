import { escapeHtml, page } from '../html.ts';
import { SMILEID_DECISIONS, type SimulatedLink, type SmileIdDecision } from './state.ts';

export const LINK_PATH = '/smileid/link';
export const LINKS_INDEX_PATH = '/smileid';

const DECISION_BUTTONS: readonly { decision: SmileIdDecision; label: string; testId: string; className: string; style?: string }[] = [
  { decision: 'approve', label: 'Approve', testId: 'approve', className: 'approve' },
  { decision: 'reject', label: 'Reject', testId: 'reject', className: 'decline' },
  { decision: 'review', label: 'Needs review', testId: 'needs-review', className: 'review' },
  { decision: 'error', label: 'Error', testId: 'error', className: 'error', style: 'background:#5b6475' },
];

export function linkUrl(base: string, link: SimulatedLink): string {
  return `${base}${LINK_PATH}/${encodeURIComponent(link.refId)}`;
}

/** The hosted Smile Link: each button is a plain form post of the result SmileID would report. */
export function linkPage(link: SimulatedLink): string {
  const job = link.job;
  const buttons = DECISION_BUTTONS.map((button) => {
    const outcome = SMILEID_DECISIONS[button.decision];
    const style = button.style === undefined ? '' : ` style="${button.style}"`;
    return `<button type="submit" name="decision" value="${button.decision}" class="${button.className}"${style} data-testid="${button.testId}">${button.label} (${outcome.code})</button>`;
  }).join('\n    ');
  return page(
    `Verify your identity · Smile Link ${link.refId}`,
    `<h1>Verify your identity</h1>
  <p class="lead">${
    job === null
      ? 'Simulated Smile Link. Choose the result SmileID should report.'
      : 'This job already has a result. Deciding again acts like a reviewer changing it in the SmileID portal.'
  }</p>
  <dl>
    <dt>Link</dt><dd data-testid="ref-id">${escapeHtml(link.refId)}</dd>
    <dt>Job id</dt><dd data-testid="job-id">${escapeHtml(link.partnerParams.job_id)}</dd>
    <dt>Result</dt><dd data-testid="result-code">${escapeHtml(job === null ? '(none yet)' : `${job.resultCode} ${job.resultText}`)}</dd>
    <dt>Link expires</dt><dd data-testid="expires-at">${escapeHtml(link.expiresAt.toISOString())}</dd>
  </dl>
  <form class="actions" method="post" action="${escapeHtml(`${LINK_PATH}/${encodeURIComponent(link.refId)}`)}">
    ${buttons}
  </form>`,
  );
}

export function expiredPage(link: SimulatedLink): string {
  return page(
    'Link expired',
    `<h1 data-testid="link-expired">This link has expired</h1>
  <p class="lead">Ask for a new verification link.</p>
  <dl><dt>Link</dt><dd>${escapeHtml(link.refId)}</dd><dt>Expired at</dt><dd>${escapeHtml(link.expiresAt.toISOString())}</dd></dl>`,
  );
}

export function decisionSentPage(link: SimulatedLink, decision: SmileIdDecision): string {
  const outcome = SMILEID_DECISIONS[decision];
  return page(
    'Result sent',
    `<h1 data-testid="decision-result">Result sent: ${escapeHtml(outcome.code)} ${escapeHtml(outcome.text)}. You can close this tab.</h1>
  <p class="lead">SmileID would now call the integration back; the sandbox is sending the signed callback.</p>
  <dl><dt>Link</dt><dd>${escapeHtml(link.refId)}</dd></dl>
  <p><a href="${LINKS_INDEX_PATH}">All simulated Smile Links</a></p>`,
  );
}

export function notFoundPage(what: string): string {
  return page(
    'Not found',
    `<h1>Not found</h1><p class="lead">${escapeHtml(what)}</p><p><a href="${LINKS_INDEX_PATH}">All simulated Smile Links</a></p>`,
  );
}

export function linksIndexPage(links: readonly SimulatedLink[]): string {
  const rows =
    links.length === 0
      ? '<tr><td colspan="4">No links yet: create one through POST /v1/smile_links.</td></tr>'
      : links
          .map(
            (link) =>
              `<tr><td><a href="${escapeHtml(`${LINK_PATH}/${encodeURIComponent(link.refId)}`)}">${escapeHtml(link.refId)}</a></td><td>${escapeHtml(
                link.partnerParams.job_id,
              )}</td><td><span class="status">${escapeHtml(link.job?.resultCode ?? 'pending')}</span></td><td>${escapeHtml(link.createdAt.toISOString())}</td></tr>`,
          )
          .join('\n');
  return page(
    'SmileID sandbox',
    `<h1>SmileID sandbox</h1>
  <p class="lead">Smile Links created through <code>POST /v1/smile_links</code>; open one to decide it.</p>
  <table>
    <thead><tr><th>Link</th><th>Job id</th><th>Result</th><th>Created</th></tr></thead>
    <tbody>
${rows}
    </tbody>
  </table>
  <p><a href="/">Sandbox home</a></p>`,
  );
}
