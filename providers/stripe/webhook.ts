import { MalformedWebhookError } from '../errors.ts';
import type { NormalizedWebhook } from '../types.ts';
import { readStripeAccount } from './account-state.ts';
import { isJsonObject, readString, type JsonObject } from '../json.ts';

// Stripe event: { id: "evt_…", object: "event", type, created: <unix s>, account?: "acct_…",
// data: { object, previous_attributes? } }. `account.updated` carries the account's state;
// `account.application.deauthorized` withdraws the platform's access, and with it any approval;
// every other type is stored and ignored (seed 003: "log but don't process").

export const STRIPE_ACCOUNT_UPDATED = 'account.updated';
export const STRIPE_ACCOUNT_DEAUTHORIZED = 'account.application.deauthorized';
/**
 * A thin event notification (event destinations, API v2): `{ id, object: "v2.core.event", type,
 * created: ISO 8601, related_object?, context?: "acct_…" }`, signed like any other. None carries a
 * state we act on, so each is stored and ignored; a 4xx would have Stripe retry it for 3 days.
 */
export const STRIPE_THIN_EVENT = 'v2.core.event';

// We create accounts with metadata.verification_id = our verification id (a UUID). Accounts made
// elsewhere (the dashboard, another integration) may carry anything there.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Throws MalformedWebhookError when the body is not a Stripe event. Call after verifying the signature. */
export function parseStripeWebhook(rawBody: Buffer): NormalizedWebhook {
  const event = parseJson(rawBody);
  if (!isJsonObject(event)) throw new MalformedWebhookError('Stripe webhook body is not a JSON object');
  const providerEventId = readString(event.id);
  if (providerEventId === null) throw new MalformedWebhookError('Stripe webhook has no event id');
  const eventType = readString(event.type);
  if (eventType === null) throw new MalformedWebhookError(`Stripe event ${providerEventId} has no type`);
  if (event.object === STRIPE_THIN_EVENT) return parseThinEvent(event, providerEventId, eventType);
  // Events are ordered by `created`, never by arrival, so an event without it is unusable.
  const created = event.created;
  if (typeof created !== 'number' || !Number.isSafeInteger(created) || created <= 0) {
    throw new MalformedWebhookError(`Stripe event ${providerEventId} has no valid created time`);
  }
  const occurredAt = new Date(created * 1000).toISOString();
  const data = event.data;
  if (!isJsonObject(data) || !isJsonObject(data.object))
    throw new MalformedWebhookError(`Stripe event ${providerEventId} has no data.object`);

  const ignored: NormalizedWebhook = {
    providerEventId,
    eventType,
    occurredAt,
    verificationId: null,
    // Connect events name the connected account at the top level; it still routes the event to its verification.
    providerRef: accountIdOf(event.account) ?? (data.object.object === 'account' ? accountIdOf(data.object.id) : null),
    providerStatus: null,
    status: null,
    reasons: [],
    document: null,
  };
  if (eventType === STRIPE_ACCOUNT_DEAUTHORIZED && ignored.providerRef !== null) {
    // The account holder disconnected our platform: we can no longer pay out to or act on the
    // account, so an approval no longer holds. Seed 003 marks such a consultant inactive; of the
    // unified statuses that is `declined` (not usable, as a failed account is), not `error` (a
    // fault to retry) nor `canceled` (our client's own withdrawal). The account still reads
    // as it was, so the event itself is the fact.
    return { ...ignored, providerStatus: 'deauthorized', status: 'declined', reasons: ['deauthorized'], revokes: true };
  }
  if (eventType !== STRIPE_ACCOUNT_UPDATED) return ignored;

  const account = readStripeAccount(data.object);
  if (account === null) throw new MalformedWebhookError(`Stripe event ${providerEventId} (${eventType}) has no Account in data.object`);
  return {
    ...ignored,
    verificationId: account.verificationId !== null && UUID.test(account.verificationId) ? account.verificationId.toLowerCase() : null,
    providerRef: account.accountId,
    providerStatus: account.state,
    status: account.status,
    reasons: account.reasons,
  };
}

function parseThinEvent(event: JsonObject, providerEventId: string, eventType: string): NormalizedWebhook {
  const created = readString(event.created);
  const occurredAt = created === null ? NaN : Date.parse(created);
  if (Number.isNaN(occurredAt)) throw new MalformedWebhookError(`Stripe thin event ${providerEventId} has no valid created time`);
  return {
    providerEventId,
    eventType,
    occurredAt: new Date(occurredAt).toISOString(),
    verificationId: null,
    providerRef: accountIdOf(event.context),
    providerStatus: null,
    status: null,
    reasons: [],
    document: null,
  };
}

function parseJson(rawBody: Buffer): unknown {
  try {
    return JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new MalformedWebhookError('Stripe webhook body is not JSON');
  }
}

function accountIdOf(value: unknown): string | null {
  const id = readString(value);
  return id !== null && id.startsWith('acct_') ? id : null;
}
