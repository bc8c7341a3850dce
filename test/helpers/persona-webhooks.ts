// Persona webhooks built and signed by the test itself (HMAC per shared/providers.md, written
// here with node:crypto and not borrowed from providers/ or sandbox/), so a test can send any
// event, in any order, any number of times.
import { createHmac, randomBytes } from 'node:crypto';
import { PERSONA_SECRETS } from './stack.ts';

export interface PersonaEventInput {
  eventId?: string;
  /** inquiry.created, inquiry.started, inquiry.completed, inquiry.marked-for-review, inquiry.approved, … */
  name: string;
  createdAt: Date;
  inquiryId: string;
  /** Our verification id, as the inquiry's `reference-id`. */
  referenceId: string;
  /** The inquiry's status as serialized in the payload. */
  status: string;
}

/** The event name Persona sends for each inquiry status it moves to. */
export const PERSONA_EVENT_FOR_STATUS: Record<string, string> = {
  created: 'inquiry.created',
  pending: 'inquiry.started',
  completed: 'inquiry.completed',
  needs_review: 'inquiry.marked-for-review',
  approved: 'inquiry.approved',
  declined: 'inquiry.declined',
  failed: 'inquiry.failed',
  expired: 'inquiry.expired',
};

export function personaEventId(): string {
  return `evt_${randomBytes(12).toString('hex')}`;
}

/** The raw body: `{ data: { type: 'event', id, attributes: { name, created-at, payload: { data: inquiry, included } } } }`. */
export function personaEventBody(input: PersonaEventInput): { eventId: string; body: string } {
  const eventId = input.eventId ?? personaEventId();
  const body = JSON.stringify({
    data: {
      type: 'event',
      id: eventId,
      attributes: {
        name: input.name,
        'created-at': input.createdAt.toISOString(),
        'redacted-at': null,
        payload: {
          data: { type: 'inquiry', id: input.inquiryId, attributes: { status: input.status, 'reference-id': input.referenceId } },
          included: [],
        },
      },
    },
  });
  return { eventId, body };
}

/** `Persona-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>`. */
export function signPersona(body: string, secret = PERSONA_SECRETS.webhookSecret, at = new Date()): string {
  const t = Math.floor(at.getTime() / 1000);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

export interface WebhookResponse {
  status: number;
  contentType: string | null;
  body: any;
}

/** POSTs a signed Persona webhook over real HTTP, the way Persona would. */
export async function postPersonaWebhook(apiUrl: string, body: string): Promise<WebhookResponse> {
  const response = await fetch(`${apiUrl}/webhooks/persona`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'persona-signature': signPersona(body) },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type'), body: text ? JSON.parse(text) : null };
}

/** The person finishes the sandbox's hosted Persona inquiry with `decision`; answers the sandbox's status. */
export async function decidePersonaInquiry(sandboxUrl: string, inquiryId: string, decision: string): Promise<number> {
  const response = await fetch(`${sandboxUrl}/persona/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ 'inquiry-id': inquiryId, decision }).toString(),
  });
  await response.text();
  return response.status;
}

/** Runs `work` over `items` with at most `limit` in flight; results in input order. */
export async function inBatches<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T, index);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** Every ordering of `items` (n! of them). */
export function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}
