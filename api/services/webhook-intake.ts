// Webhook intake: verify -> store -> answer -> signal. Accepted means stored: once the row is
// in Postgres the provider gets 200 whatever Temporal does, and the sweeper re-delivers what the
// signal could not. Only a failed store answers 503 so the provider retries.
import { randomUUID } from 'node:crypto';
import { and, eq, or, sql, type SQL } from 'drizzle-orm';
import { verifications, webhookEvents, type WebhookEventOutcome } from '../../db/schema/index.ts';
import { storableJson } from '../../db/storable-json.ts';
import type { ProviderName, ProviderEvent } from '../../domain/verification.ts';
import { MalformedWebhookError, WebhookSignatureError } from '../../providers/errors.ts';
import type { NormalizedWebhook, WebhookRequest } from '../../providers/types.ts';
import type { AppDeps } from '../deps.ts';
import { badRequest, serviceUnavailable, unauthorized } from '../errors.ts';

export interface IntakeResult {
  /** stored: will be signalled; ignored: stored, carries no status; unmatched: a status for no known verification; duplicate: seen before. */
  outcome: 'stored' | 'ignored' | 'unmatched' | 'duplicate';
  /** Set when the event belongs to a verification and should be signalled. */
  delivery: PendingDelivery | null;
}

export interface PendingDelivery {
  webhookEventId: string;
  verificationId: string;
  event: ProviderEvent;
}

export async function acceptWebhook(
  deps: AppDeps,
  provider: ProviderName,
  request: WebhookRequest,
  correlationId: string,
): Promise<IntakeResult> {
  const adapter = deps.providers.get(provider);
  let parsed: NormalizedWebhook;
  try {
    adapter.verifyWebhook(request);
    parsed = adapter.parseWebhook(request.rawBody);
  } catch (err) {
    if (err instanceof WebhookSignatureError) {
      throw unauthorized({
        code: 'invalid_signature',
        detail: `Webhook signature rejected: ${err.message}`,
        action: 'Check the webhook secret configured for this provider.',
      });
    }
    if (err instanceof MalformedWebhookError) {
      throw badRequest({ code: 'malformed_webhook', detail: err.message });
    }
    throw err;
  }

  const storing = storeEvent(deps, provider, parsed, request.rawBody, correlationId);
  let timer: NodeJS.Timeout | undefined;
  const tooSlow = new Promise<'too_slow'>((resolve) => {
    timer = setTimeout(() => resolve('too_slow'), STORE_DEADLINE_MS);
  });
  try {
    const result = await Promise.race([storing, tooSlow]);
    if (result !== 'too_slow') return result;
  } catch (err) {
    deps.logger.error({ err, provider, correlationId }, 'webhook could not be stored');
    throw serviceUnavailable({
      code: 'storage_unavailable',
      detail: 'The event could not be stored',
      action: 'Retry later; nothing was recorded.',
    });
  } finally {
    clearTimeout(timer);
  }
  // The write may still land; the provider's retry is then a duplicate, so nothing is lost or doubled.
  storing.catch((err: unknown) => deps.logger.error({ err, provider, correlationId }, 'slow webhook store failed'));
  deps.logger.warn({ provider, correlationId, deadlineMs: STORE_DEADLINE_MS }, 'webhook store too slow; answered 503');
  throw serviceUnavailable({
    code: 'storage_slow',
    detail: `The database did not confirm the write within ${STORE_DEADLINE_MS / 1000} s`,
    action: 'Retry; a repeat of this event is recognised as a duplicate.',
  });
}

/**
 * Providers give up on slow answers (Stripe waits seconds, not minutes): past this a webhook is
 * answered 503 so the provider retries, rather than timing out on its side.
 */
export const STORE_DEADLINE_MS = 4000;

async function storeEvent(
  deps: AppDeps,
  provider: ProviderName,
  parsed: NormalizedWebhook,
  rawBody: Buffer,
  correlationId: string,
): Promise<IntakeResult> {
  // Matched in the insert itself: one round trip per webhook, not a lookup and then the write.
  const match = matchingVerification(deps, provider, parsed);
  // The id is ours before the insert: the stored event (what the sweeper re-sends) names its row.
  const id = randomUUID();
  const event = toProviderEvent(provider, parsed, id);
  const storedEvent = event && storableJson(event);
  const [stored] = await deps.database.db
    .insert(webhookEvents)
    .values({
      id,
      provider,
      providerEventId: parsed.providerEventId,
      eventType: parsed.eventType,
      verificationId: match ?? null,
      providerRef: parsed.providerRef,
      occurredAt: new Date(parsed.occurredAt),
      payload: storablePayload(rawBody),
      event: storedEvent ? { ...storedEvent } : null,
      signatureValid: true,
      outcome:
        parsed.status === null
          ? 'ignored'
          : match
            ? sql<WebhookEventOutcome>`case when ${match} is null then 'unmatched' else 'received' end`
            : 'unmatched',
      correlationId,
    })
    .onConflictDoNothing({ target: [webhookEvents.provider, webhookEvents.providerEventId] })
    .returning({ id: webhookEvents.id, verificationId: webhookEvents.verificationId });
  if (!stored) return { outcome: 'duplicate', delivery: null };
  // An event that carries no status (an event type we do not handle) is ignored, matched or not.
  if (!storedEvent) return { outcome: 'ignored', delivery: null };
  const verificationId = stored.verificationId;
  if (!verificationId) {
    deps.logger.warn(
      { provider, providerEventId: parsed.providerEventId, correlationId },
      'webhook for an unknown verification stored as unmatched',
    );
    return { outcome: 'unmatched', delivery: null };
  }
  return { outcome: 'stored', delivery: { webhookEventId: id, verificationId, event: storedEvent } };
}

/** The signal payload: no document data, only what ordering and dedupe need. Null when the event carries no status. */
export function toProviderEvent(provider: ProviderName, parsed: NormalizedWebhook, webhookEventId: string): ProviderEvent | null {
  if (!parsed.status || !parsed.providerStatus) return null;
  return {
    provider,
    providerEventId: parsed.providerEventId,
    occurredAt: parsed.occurredAt,
    eventType: parsed.eventType,
    providerStatus: parsed.providerStatus,
    status: parsed.status,
    reasons: parsed.reasons,
    webhookEventId,
    ...(parsed.revokes ? { revokes: true } : {}),
  };
}

/** The id of the verification the webhook names (by our id or the provider's reference), as a subquery; null when it names none. */
function matchingVerification(deps: AppDeps, provider: ProviderName, parsed: NormalizedWebhook): SQL | null {
  const matches: SQL[] = [];
  if (parsed.verificationId) matches.push(eq(verifications.id, parsed.verificationId));
  if (parsed.providerRef) matches.push(eq(verifications.providerRef, parsed.providerRef));
  if (matches.length === 0) return null;
  const row = deps.database.db
    .select({ id: verifications.id })
    .from(verifications)
    .where(and(eq(verifications.provider, provider), or(...matches)))
    .limit(1);
  return sql`(${row})`;
}

/**
 * A provider payload Postgres cannot store as is (NUL, a lone surrogate escape like "\ud83d") must
 * still be stored: a 503 would make the provider retry forever. The stored copy replaces those
 * characters with U+FFFD; the signature was already checked on the exact bytes.
 */
function storablePayload(rawBody: Buffer): unknown {
  return storableJson(JSON.parse(rawBody.toString('utf8')));
}
