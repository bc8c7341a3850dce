// A local SMTP catcher for `npm run dev` and tests: a real SMTP server (smtp-server) that keeps
// every message in memory instead of delivering it. The sandbox shows them at GET /mail (and
// /mail.json); nothing leaves the machine.
import { SMTPServer } from 'smtp-server';
import { escapeHtml, page } from './html.ts';
import { sendHtml, sendJson, type SandboxLogger, type SandboxRoute } from './http.ts';

export interface CapturedMail {
  id: number;
  /** Envelope sender and recipients, as the client gave them in MAIL FROM / RCPT TO. */
  from: string;
  to: string[];
  subject: string;
  /** The text/plain part, transfer-decoded (or the whole body of a single-part message). */
  text: string;
  raw: string;
  receivedAt: string;
}

export interface MailCatcher {
  /** `smtp://127.0.0.1:<port>`, ready for SMTP_URL. */
  url: string;
  port: number;
  messages(): CapturedMail[];
  /** Resolves with the first message (already captured or yet to come) that matches. */
  waitFor(match: (mail: CapturedMail) => boolean, timeoutMs?: number): Promise<CapturedMail>;
  /** GET /mail and GET /mail.json, for the sandbox server. */
  routes: SandboxRoute[];
  close(): Promise<void>;
}

export interface MailCatcherOptions {
  port?: number;
  host?: string;
  /** Oldest messages are dropped beyond this. */
  keep?: number;
  /** Answer RCPT TO with a permanent 550 for these addresses (to test bounces). */
  rejectRecipient?: (address: string) => boolean;
  logger?: SandboxLogger;
}

export async function startMailCatcher(options: MailCatcherOptions = {}): Promise<MailCatcher> {
  const host = options.host ?? '127.0.0.1';
  const keep = options.keep ?? 200;
  const captured: CapturedMail[] = [];
  const waiters = new Set<(mail: CapturedMail) => void>();
  let nextId = 1;

  const server = new SMTPServer({
    // Plain SMTP on loopback: no STARTTLS offer (a self-signed certificate would fail the client), no auth.
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    banner: 'veriflow sandbox mail catcher',
    size: 10 * 1024 * 1024,
    onRcptTo(address, _session, callback) {
      if (options.rejectRecipient?.(address.address)) {
        callback(Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 }));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const mail: CapturedMail = {
          id: nextId++,
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          subject: decodeHeaderWords(headerOf(splitMessage(raw).headers, 'subject') ?? ''),
          text: plainTextOf(raw),
          raw,
          receivedAt: new Date().toISOString(),
        };
        captured.push(mail);
        if (captured.length > keep) captured.shift();
        options.logger?.info({ id: mail.id, subject: mail.subject }, 'mail catcher: message captured');
        waiters.forEach((notify) => notify(mail));
        callback(null, `Captured as message ${mail.id}`);
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 1025, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Errors after start-up (a client dropping the connection) are the client's business.
  server.on('error', (err: Error) => options.logger?.warn({ err }, 'mail catcher: connection error'));
  const { port } = server.server.address() as { port: number };

  return {
    url: `smtp://${host}:${port}`,
    port,
    messages: () => [...captured],
    waitFor(match, timeoutMs = 20_000) {
      const found = captured.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`No matching email arrived within ${timeoutMs} ms`));
        }, timeoutMs);
        const check = (mail: CapturedMail) => {
          if (!match(mail)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(mail);
        };
        waiters.add(check);
      });
    },
    routes: [
      { method: 'GET', path: /^\/mail\.json$/, handle: ({ res }) => sendJson(res, 200, { data: [...captured].reverse() }) },
      { method: 'GET', path: /^\/mail$/, handle: ({ res }) => sendHtml(res, 200, mailPage(captured)) },
    ],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function mailPage(messages: readonly CapturedMail[]): string {
  const items = [...messages]
    .reverse()
    .map(
      (m) =>
        `<section style="margin-bottom:1.5rem"><h2 style="font-size:1.05rem;margin:0">${escapeHtml(m.subject || '(no subject)')}</h2>` +
        `<p class="lead">#${m.id} · ${escapeHtml(m.receivedAt)} · to ${escapeHtml(m.to.join(', '))} · from ${escapeHtml(m.from)}</p>` +
        `<pre style="white-space:pre-wrap;word-break:break-all">${linkify(m.text)}</pre></section>`,
    )
    .join('');
  return page(
    'Captured mail',
    `<h1>Captured mail</h1><p class="lead">Emails sent through the sandbox SMTP catcher (newest first); nothing is delivered.</p>${items || '<p>No mail yet.</p>'}`,
  );
}

function linkify(text: string): string {
  return escapeHtml(text).replace(/https?:\/\/[^\s<]+/g, (url) => `<a href="${url}">${url}</a>`);
}

// Just enough MIME to read what an SMTP client sends: headers, multipart boundaries, and the
// quoted-printable / base64 transfer encodings of the text part.

function splitMessage(raw: string): { headers: string; body: string } {
  const at = raw.search(/\r?\n\r?\n/);
  if (at === -1) return { headers: raw, body: '' };
  const separator = /\r?\n\r?\n/.exec(raw.slice(at))![0];
  return { headers: raw.slice(0, at), body: raw.slice(at + separator.length) };
}

function headerOf(headers: string, name: string): string | null {
  const unfolded = headers.replace(/\r?\n[ \t]+/g, ' ');
  const match = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(unfolded);
  return match ? match[1]!.trim() : null;
}

function decodeHeaderWords(value: string): string {
  return value.replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_all, _charset: string, encoding: string, text: string) =>
    encoding.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : decodeQuotedPrintable(text.replace(/_/g, ' ')),
  );
}

function decodeQuotedPrintable(text: string): string {
  const bytes = text.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_all, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

function decodeBody(headers: string, body: string): string {
  const encoding = (headerOf(headers, 'content-transfer-encoding') ?? '').toLowerCase();
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body;
}

/** The first text/plain part, decoded; for a single-part message its body. */
function plainTextOf(raw: string): string {
  const { headers, body } = splitMessage(raw);
  const contentType = headerOf(headers, 'content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!/^multipart\//i.test(contentType) || !boundary) return decodeBody(headers, body).trim();
  const parts = body.split(`--${boundary}`).slice(1);
  for (const part of parts) {
    if (part.startsWith('--')) break;
    const text = plainTextOf(part.replace(/^\r?\n/, ''));
    const partType = headerOf(splitMessage(part.replace(/^\r?\n/, '')).headers, 'content-type') ?? 'text/plain';
    if (/^text\/plain/i.test(partType) || /^multipart\//i.test(partType)) return text;
  }
  return '';
}
