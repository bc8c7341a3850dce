import type { IncomingHttpHeaders } from 'node:http';

/** `Retry-After` in milliseconds, as seconds or an HTTP date (RFC 9110); null when absent or unreadable. */
export function retryAfterMs(headers: IncomingHttpHeaders, now: Date): number | null {
  const raw = headers['retry-after'];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (value === undefined || value === '') return null;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now.getTime());
}
