// Outbound webhooks to the client. Events are written as delivery rows in the same transaction as
// the change they describe (so a change is never recorded without its event, nor an event sent
// for a change that rolled back); each row is then delivered by its own child workflow, one
// signed HTTP POST per attempt, so a slow or dead endpoint never holds a verification up.
import { ApplicationFailure } from '@temporalio/common';
import { and, asc, eq, inArray, lt, max, ne, sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { request } from 'undici';
import type { Database } from '../db/client.ts';
import {
  verificationDocuments,
  verifications,
  webhookDeliveries,
  webhookEndpoints,
  type Verification,
  type WebhookDelivery,
  type WebhookDeliveryStatus,
  type WebhookEndpoint,
} from '../db/schema/index.ts';
import { toVerificationSummaryJson } from '../db/verification-view.ts';
import { FailureType } from '../domain/failures.ts';
import type { RecordedEffect } from '../domain/history.ts';
import { isTerminalStatus, type VerificationStatus } from '../domain/verification.ts';
import { createOutboundAgent, OutboundAddressRefusedError } from '../wiring/outbound-agent.ts';
import { hostRefusal, schemeRefusal } from '../wiring/outbound-address.ts';
import type { ActivityDeps } from './deps.ts';

export const WEBHOOK_EVENT_TYPES = [
  'verification.created',
  'verification.step.completed',
  'verification.status_changed',
  'verification.completed',
  'verification.failed',
  'verification.personal_data_erased',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface WebhookEventRef {
  type: WebhookEventType;
  /** The history entry (or step number) the event is about: the dedupe key with the type. */
  seq: number;
}

/** Receivers get 15 s (Standard Webhooks suggests 15–30 s) before an attempt counts as failed. */
export const WEBHOOK_TIMEOUT_MS = 15_000;
/** A receiver's answer matters only by its status; more than this of its body is never read. */
export const MAX_ANSWER_BYTES = 1024;

// What a tenant sees of a failed attempt: the status code and one of these, never the receiver's
// body or our socket errors (they would turn the endpoint into a probe of our network).
export const DeliveryFailure = {
  addressRefused: 'The endpoint address is not allowed (loopback, private, link-local or reserved)',
  httpsRequired: 'The endpoint URL must use https',
  timeout: `No response within ${WEBHOOK_TIMEOUT_MS / 1000} s`,
  unreachable: 'Could not connect to the endpoint',
  noEndpoint: 'No webhook endpoint is configured',
} as const;

/**
 * The events one recorded batch produces. `verification.created` comes with the first history
 * entry, which the workflow writes once the provider session exists (a provider that refuses the
 * request leaves no session, so only the failure is announced). Status events describe the
 * *persisted* change of the batch: a batch that passes through a status without storing it
 * announces only where it ended, so every event's `data` is a state clients can also read.
 */
export function webhookEventsOf(effects: RecordedEffect[], sessionExists: boolean): WebhookEventRef[] {
  const events: WebhookEventRef[] = [];
  let lastSeq = 0;
  let from: VerificationStatus | null = null;
  let to: VerificationStatus | null = null;
  let changeSeq = 0;
  for (const effect of effects) {
    if (effect.type === 'record') {
      lastSeq = effect.entry.seq;
      if (effect.entry.seq === 1 && effect.entry.source === 'api' && sessionExists) events.push({ type: 'verification.created', seq: 1 });
    } else if (effect.type === 'statusChanged') {
      from ??= effect.from;
      to = effect.to;
      changeSeq = lastSeq;
    }
  }
  if (from !== null && to !== null && from !== to) {
    events.push({ type: 'verification.status_changed', seq: changeSeq });
    if (to === 'approved') events.push({ type: 'verification.completed', seq: changeSeq });
    else if (isTerminalStatus(to)) events.push({ type: 'verification.failed', seq: changeSeq });
  }
  return events;
}

/**
 * Writes a delivery row per event when the verification's tenant has an endpoint, numbering them
 * after the verification's earlier events (`seq`, the order they are delivered in); returns the
 * ids of the rows for these events (already existing ones too: after an activity retry the
 * workflow must still start their deliveries). Call it inside the transaction that records the
 * change.
 */
export async function enqueueWebhookEvents(tx: Database, verificationId: string, events: WebhookEventRef[]): Promise<string[]> {
  if (events.length === 0) return [];
  // Locked: two recordings of one verification (a step and a status change) number in turn.
  const [row] = await tx.select().from(verifications).where(eq(verifications.id, verificationId)).for('update');
  return row ? enqueueWebhookEventsOf(tx, row, events) : [];
}

/**
 * enqueueWebhookEvents for a verification row this transaction already locked and holds as it now
 * is (an UPDATE … RETURNING locks it as SELECT … FOR UPDATE would), saving the read.
 */
export async function enqueueWebhookEventsOf(tx: Database, row: Verification, events: WebhookEventRef[]): Promise<string[]> {
  if (events.length === 0) return [];
  const verificationId = row.id;
  const [endpoint] = await tx.select({ id: webhookEndpoints.id }).from(webhookEndpoints).where(eq(webhookEndpoints.tenantId, row.tenantId));
  if (!endpoint) return [];
  const known = await tx
    .select({ id: webhookDeliveries.id, eventType: webhookDeliveries.eventType, eventSeq: webhookDeliveries.eventSeq })
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.verificationId, verificationId));
  const stored = (e: WebhookEventRef) => known.find((k) => k.eventType === e.type && k.eventSeq === e.seq);
  const fresh = events.filter((e) => stored(e) === undefined);
  if (fresh.length > 0) {
    const [last] = await tx
      .select({ seq: max(webhookDeliveries.seq) })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.verificationId, verificationId));
    const [document] = await tx.select().from(verificationDocuments).where(eq(verificationDocuments.verificationId, verificationId));
    const data = toVerificationSummaryJson(row, document);
    const timestamp = new Date().toISOString();
    const inserted = await tx
      .insert(webhookDeliveries)
      .values(
        fresh.map((e, i) => {
          const seq = (last?.seq ?? 0) + i + 1;
          return {
            tenantId: row.tenantId,
            verificationId,
            eventType: e.type,
            eventSeq: e.seq,
            seq,
            payload: { type: e.type, timestamp, seq, data },
          };
        }),
      )
      .returning({ id: webhookDeliveries.id, eventType: webhookDeliveries.eventType, eventSeq: webhookDeliveries.eventSeq });
    known.push(...inserted);
  }
  // In event order, so deliveries start in the order the events happened.
  return events.map((e) => stored(e)!.id);
}

export interface AttemptWebhookRequest {
  deliveryId: string;
  /** The run's generation; a manual retry bumps the row's, and the older run stops. */
  generation: number;
  /** 1-based attempt within this run. */
  attempt: number;
  /** Wait before the next attempt if this one fails; null: this is the last attempt (dead on failure). */
  retryInMs: number | null;
}

export type WebhookAttemptOutcome = 'delivered' | 'retrying' | 'dead' | 'superseded';

/** `go`: no earlier delivery of the verification is pending or failing; `superseded`: nothing left for this run. */
export type DeliveryTurn = 'go' | 'wait' | 'superseded';

/** Statuses that hold the deliveries after them back: not yet sent, or between attempts. */
const UNSETTLED: WebhookDeliveryStatus[] = ['pending', 'failed'];

export function createOutboundWebhookActivities({ db, logger, outbound, metrics }: ActivityDeps) {
  const agent = createOutboundAgent(outbound);
  const findDelivery = async (deliveryId: string): Promise<WebhookDelivery> => {
    const [row] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, deliveryId));
    if (!row) {
      throw ApplicationFailure.create({
        type: FailureType.webhookDeliveryNotFound,
        message: `Webhook delivery ${deliveryId} not found`,
        nonRetryable: true,
      });
    }
    return row;
  };
  /** The verification's earliest unsettled delivery other than `except`, if any. */
  const firstUnsettled = async (row: WebhookDelivery, except: string, before?: number) => {
    const [first] = await db
      .select({ deliveryId: webhookDeliveries.id, generation: webhookDeliveries.generation })
      .from(webhookDeliveries)
      .where(
        and(
          eq(webhookDeliveries.verificationId, row.verificationId),
          inArray(webhookDeliveries.status, UNSETTLED),
          ne(webhookDeliveries.id, except),
          ...(before === undefined ? [] : [lt(webhookDeliveries.seq, before)]),
        ),
      )
      .orderBy(asc(webhookDeliveries.seq))
      .limit(1);
    return first ?? null;
  };
  return {
    /** Whether this run may send: every earlier delivery of its verification succeeded or went dead. */
    async checkDeliveryTurn(input: { deliveryId: string; generation: number }): Promise<DeliveryTurn> {
      const row = await findDelivery(input.deliveryId);
      if (row.generation !== input.generation || row.status === 'succeeded') return 'superseded';
      return (await firstUnsettled(row, row.id, row.seq)) === null ? 'go' : 'wait';
    },

    /** The run to wake once this delivery settled: the verification's earliest delivery still to send. */
    async nextDeliveryInLine(input: { deliveryId: string }): Promise<{ deliveryId: string; generation: number } | null> {
      return firstUnsettled(await findDelivery(input.deliveryId), input.deliveryId);
    },

    /**
     * One signed POST. A receiver's failure (non-2xx, timeout, refused connection) is an outcome,
     * recorded on the row; only our own infrastructure failing (the database) throws.
     */
    async attemptWebhookDelivery(input: AttemptWebhookRequest): Promise<{ outcome: WebhookAttemptOutcome }> {
      const [found] = await db
        .select({ delivery: webhookDeliveries, endpoint: webhookEndpoints })
        .from(webhookDeliveries)
        .leftJoin(webhookEndpoints, eq(webhookEndpoints.tenantId, webhookDeliveries.tenantId))
        .where(eq(webhookDeliveries.id, input.deliveryId));
      if (!found) {
        throw ApplicationFailure.create({
          type: FailureType.webhookDeliveryNotFound,
          message: `Webhook delivery ${input.deliveryId} not found`,
          nonRetryable: true,
        });
      }
      const { delivery } = found;
      if (delivery.generation !== input.generation || delivery.status === 'succeeded') return { outcome: 'superseded' };

      const attemptedAt = new Date();
      let statusCode: number | null = null;
      let error: string | null = null;
      const { endpoint } = found;
      if (endpoint === null) {
        error = DeliveryFailure.noEndpoint;
      } else {
        const url = new URL(endpoint.url);
        if (schemeRefusal(url, outbound) !== null) {
          error = DeliveryFailure.httpsRequired;
        } else if (hostRefusal(url, outbound) !== null) {
          error = DeliveryFailure.addressRefused;
        } else {
          const body = JSON.stringify(delivery.payload);
          const signature = signingSecrets(endpoint, attemptedAt)
            .map((secret) => new Webhook(secret).sign(delivery.id, attemptedAt, body))
            .join(' ');
          try {
            const response = await request(url, {
              method: 'POST',
              body,
              dispatcher: agent,
              headers: {
                'content-type': 'application/json',
                'user-agent': 'veriflow-webhooks/1',
                'webhook-id': delivery.id,
                'webhook-timestamp': String(Math.floor(attemptedAt.getTime() / 1000)),
                'webhook-signature': signature,
              },
              headersTimeout: WEBHOOK_TIMEOUT_MS,
              bodyTimeout: WEBHOOK_TIMEOUT_MS,
              signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
            });
            statusCode = response.statusCode;
            // Drained so the connection can be reused, or closed once the answer passes the limit.
            await response.body.dump({ limit: MAX_ANSWER_BYTES }).catch(() => undefined);
            if (statusCode < 200 || statusCode >= 300) error = `HTTP ${statusCode}`;
          } catch (err) {
            error = failureReason(err);
            logger.warn(
              {
                deliveryId: delivery.id,
                err: { name: (err as Error).name, code: (err as { code?: string }).code, message: (err as Error).message },
              },
              'webhook endpoint unreachable',
            );
          }
        }
      }

      const delivered = error === null;
      const outcome: WebhookAttemptOutcome = delivered ? 'delivered' : input.retryInMs === null ? 'dead' : 'retrying';
      const updated = await db
        .update(webhookDeliveries)
        .set({
          status: delivered ? 'succeeded' : outcome === 'dead' ? 'dead' : 'failed',
          attempts: sql`${webhookDeliveries.attempts} + 1`,
          lastStatusCode: statusCode,
          lastError: error,
          lastAttemptAt: attemptedAt,
          nextAttemptAt: outcome === 'retrying' ? new Date(Date.now() + input.retryInMs!) : null,
          deliveredAt: delivered ? new Date() : null,
        })
        // A manual retry that re-queued the row meanwhile owns it now.
        .where(and(eq(webhookDeliveries.id, delivery.id), eq(webhookDeliveries.generation, input.generation)))
        .returning({ id: webhookDeliveries.id });
      if (updated.length === 0) return { outcome: 'superseded' };
      metrics?.outboundAttempts.inc({
        event_type: delivery.eventType,
        outcome: delivered ? 'succeeded' : outcome === 'dead' ? 'dead' : 'failed',
      });
      if (delivered)
        metrics?.outboundDeliverySeconds.observe({ event_type: delivery.eventType }, (Date.now() - delivery.createdAt.getTime()) / 1000);
      logger.info(
        {
          deliveryId: delivery.id,
          verificationId: delivery.verificationId,
          eventType: delivery.eventType,
          attempt: input.attempt,
          statusCode,
          outcome,
        },
        'webhook delivery attempted',
      );
      return { outcome };
    },
  };
}

/** The current secret, and during a rotation's grace period the one it replaced (Standard Webhooks allows several signatures). */
export function signingSecrets(
  endpoint: Pick<WebhookEndpoint, 'secret' | 'previousSecret' | 'previousSecretExpiresAt'>,
  at: Date,
): string[] {
  const inGrace = endpoint.previousSecret !== null && endpoint.previousSecretExpiresAt !== null && endpoint.previousSecretExpiresAt > at;
  return inGrace ? [endpoint.secret, endpoint.previousSecret!] : [endpoint.secret];
}

function failureReason(err: unknown): string {
  if (err instanceof OutboundAddressRefusedError) return DeliveryFailure.addressRefused;
  const e = err as { name?: string; code?: string };
  if (
    e.name === 'TimeoutError' ||
    e.name === 'AbortError' ||
    e.code === 'UND_ERR_HEADERS_TIMEOUT' ||
    e.code === 'UND_ERR_BODY_TIMEOUT' ||
    e.code === 'UND_ERR_CONNECT_TIMEOUT'
  ) {
    return DeliveryFailure.timeout;
  }
  return DeliveryFailure.unreachable;
}
