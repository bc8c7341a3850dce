// Pages are plain HTML with inline styles: no scripts, no external assets, so they work offline,
// without JavaScript, and in any browser automation.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

const STYLE = `
  :root { color-scheme: light; --ink: #1d2330; --muted: #5b6475; --line: #e3e6ec; --accent: #3451d1; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f5f6f9; }
  main { max-width: 40rem; margin: 3rem auto; padding: 2rem; background: #fff; border: 1px solid var(--line); border-radius: 12px; }
  h1 { margin: 0 0 .25rem; font-size: 1.4rem; }
  p.lead { margin: 0 0 1.5rem; color: var(--muted); }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1rem; margin: 0 0 1.5rem; }
  dt { color: var(--muted); } dd { margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; word-break: break-all; }
  form.actions { display: flex; gap: .75rem; flex-wrap: wrap; }
  button { font: inherit; padding: .6rem 1.2rem; border-radius: 8px; border: 1px solid var(--line); cursor: pointer; color: var(--ink); background: #eef1fb; }
  button.approve, button.decline, button.review { color: #fff; border-color: transparent; }
  button.approve { background: #1a7340; } button.decline { background: #c0392b; } button.review { background: #8a5a12; }
  button:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
  table { width: 100%; border-collapse: collapse; font-size: .95rem; table-layout: fixed; }
  th, td { text-align: left; padding: .5rem; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
  th { color: var(--muted); font-weight: 500; }
  a { color: var(--accent); }
  .status { display: inline-block; padding: .1rem .5rem; border-radius: 999px; background: #eef1fb; font-size: .85rem; }
  footer { margin-top: 1.5rem; color: var(--muted); font-size: .85rem; }
`;

/** Links a session's reference (a veriflow verification id) to veriflow's own view of it, when known. */
export type VerificationLink = (reference: string) => string;

export function referenceCell(reference: string | null, link: VerificationLink | undefined): string {
  if (!reference) return '<td></td>';
  if (!link) return `<td>${escapeHtml(reference)}</td>`;
  return `<td><a data-testid="verification-link" href="${escapeHtml(link(reference))}">${escapeHtml(reference)}</a></td>`;
}

/** A complete page around `body`, which must already be escaped. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
<footer>veriflow sandbox: simulated provider, no real verification happens here.</footer>
</main>
</body>
</html>`;
}
