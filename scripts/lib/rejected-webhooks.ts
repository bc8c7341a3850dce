// `npm run dev` prints every rejected provider webhook: a sandbox (or a real provider) signing
// with another secret than the API verifies must not fail silently. Rate-limited per window so a
// retry storm cannot flood the terminal.
import type { FastifyInstance } from 'fastify';

/** The setting that holds the key each provider's webhook signature is checked with. */
const SIGNATURE_SETTING: Record<string, string> = {
  persona: 'PERSONA_WEBHOOK_SECRET',
  stripe: 'STRIPE_WEBHOOK_SECRET',
  smileid: 'SMILEID_API_KEY',
  idmeta: 'IDMETA_WEBHOOK_SECRET',
};

export interface RejectionLogOptions {
  write(line: string): void;
  /** Lines per window; the rest are counted and summed up in one line. */
  maxLines?: number;
  windowMs?: number;
}

export function logRejectedWebhooks(app: FastifyInstance, { write, maxLines = 5, windowMs = 10_000 }: RejectionLogOptions): void {
  let windowStart = 0;
  let printed = 0;
  let suppressed = 0;
  const flushSuppressed = () => {
    if (suppressed > 0) write(`✗ ${suppressed} more rejected webhook(s) not shown (at most ${maxLines} lines per ${windowMs / 1000} s)`);
    suppressed = 0;
  };
  app.addHook('onSend', async (request, reply, payload) => {
    const provider = /^\/webhooks\/([^/?]+)/.exec(request.url)?.[1];
    if (provider === undefined || reply.statusCode < 400) return payload;
    const now = Date.now();
    if (now - windowStart >= windowMs) {
      flushSuppressed();
      windowStart = now;
      printed = 0;
    }
    if (printed >= maxLines) suppressed += 1;
    else {
      printed += 1;
      write(`✗ webhook rejected: ${provider} ${reply.statusCode}: ${reason(provider, reply.statusCode, payload)}`);
    }
    return payload;
  });
}

function reason(provider: string, status: number, payload: unknown): string {
  let detail = '';
  try {
    detail = (JSON.parse(String(payload)) as { detail?: string }).detail ?? '';
  } catch {
    // Not a problem document; the status alone has to do.
  }
  const setting = SIGNATURE_SETTING[provider];
  if (status === 401 && setting) return `signature did not match ${setting} (${detail})`;
  return detail || 'no detail';
}
