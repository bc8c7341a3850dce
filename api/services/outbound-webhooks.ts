// The client's side of outbound webhooks: its endpoint (one per tenant), the deliveries made to
// it, and manual retries of those that failed. Deliveries themselves are written by the worker.
import { randomBytes } from 'node:crypto';
import type { Static } from '@sinclair/typebox';
import { and, desc, eq, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { webhookDeliveries, webhookEndpoints, type WebhookDelivery, type WebhookEndpoint } from '../../db/schema/index.js';
import { DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS, WEBHOOK_DELIVERY_WORKFLOW_TYPE, webhookDeliveryWorkflowId, type WebhookDeliveryInput } from '../../workflows/messages.js';
import { hostRefusal, schemeRefusal, type OutboundPolicy } from '../../runtime/outbound-address.js';
import type { AppDeps } from '../deps.js';
import { BadRequestError, ConflictError, NotFoundError, ServiceUnavailableError } from '../errors.js';
import type { WebhookDeliveryListQuery, WebhookDeliverySchema, WebhookEndpointSchema } from '../schemas.js';
import { TEMPORAL_CALL_DEADLINE_MS } from './start-workflow.js';

type DeliveryJson = Static<typeof WebhookDeliverySchema>;
type EndpointJson = Static<typeof WebhookEndpointSchema>;

/** Standard Webhooks secret: `whsec_` + base64 of 24 random bytes (the key is the decoded bytes). */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

export function toEndpointJson(row: WebhookEndpoint): EndpointJson {
  return { url: row.url, secret: row.secret, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() };
}

export function toDeliveryJson(row: WebhookDelivery): DeliveryJson {
  return {
    id: row.id,
    verificationId: row.verificationId,
    eventType: row.eventType as DeliveryJson['eventType'],
    status: row.status,
    attempts: row.attempts,
    lastStatusCode: row.lastStatusCode,
    lastError: row.lastError,
    lastAttemptAt: row.lastAttemptAt?.toISOString() ?? null,
    nextAttemptAt: row.nextAttemptAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    deliveredAt: row.deliveredAt?.toISOString() ?? null,
    payload: row.payload,
  };
}

export async function findEndpoint(db: Database, tenantId: string): Promise<WebhookEndpoint | null> {
  const [row] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.tenantId, tenantId));
  return row ?? null;
}

/**
 * Creates the tenant's endpoint or points it at a new URL. Like Stripe, the secret survives a URL
 * change (receivers keep verifying) unless `rotateSecret` asks for a new one.
 */
export async function putEndpoint(db: Database, tenantId: string, input: { url: string; rotateSecret?: boolean }, policy: OutboundPolicy): Promise<{ endpoint: WebhookEndpoint; created: boolean }> {
  const url = new URL(input.url);
  const badScheme = schemeRefusal(url, policy);
  if (badScheme) {
    throw new BadRequestError({ code: 'invalid_webhook_url', detail: `Webhook URL '${input.url}' ${badScheme}`, action: 'Send an https:// URL your server receives POST requests at.' });
  }
  // Names are checked again on every delivery, against the address they resolve to then.
  const badHost = hostRefusal(url, policy);
  if (badHost) {
    throw new BadRequestError({
      code: 'webhook_url_not_allowed',
      detail: `Webhook URL '${input.url}' is not allowed: ${badHost}`,
      action: 'Use a public address of your server; loopback, private, link-local, unspecified and multicast addresses are refused.',
    });
  }
  const existing = await findEndpoint(db, tenantId);
  const [endpoint] = await db
    .insert(webhookEndpoints)
    .values({ tenantId, url: url.toString(), secret: generateWebhookSecret() })
    .onConflictDoUpdate({
      target: webhookEndpoints.tenantId,
      set: { url: url.toString(), updatedAt: new Date(), ...(input.rotateSecret ? { secret: generateWebhookSecret() } : {}) },
    })
    .returning();
  return { endpoint: endpoint!, created: existing === null };
}

function encodeCursor(row: WebhookDelivery): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || Number.isNaN(createdAt.getTime())) {
    throw new BadRequestError({ code: 'invalid_cursor', detail: `Cursor '${cursor}' is not one this API issued`, action: 'Pass nextCursor from the previous page unchanged.' });
  }
  return { createdAt, id };
}

/** Newest first, keyset-paginated like /v1/verifications. */
export async function listDeliveries(db: Database, tenantId: string, query: Static<typeof WebhookDeliveryListQuery>): Promise<{ data: DeliveryJson[]; nextCursor: string | null }> {
  const conditions: SQL[] = [eq(webhookDeliveries.tenantId, tenantId)];
  if (query.status) conditions.push(eq(webhookDeliveries.status, query.status));
  if (query.verificationId) conditions.push(eq(webhookDeliveries.verificationId, query.verificationId));
  if (query.cursor) {
    const { createdAt, id } = decodeCursor(query.cursor);
    conditions.push(or(lt(webhookDeliveries.createdAt, createdAt), and(eq(webhookDeliveries.createdAt, createdAt), lt(webhookDeliveries.id, id)))!);
  }
  const rows = await db
    .select()
    .from(webhookDeliveries)
    .where(and(...conditions))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  return { data: page.map(toDeliveryJson), nextCursor: rows.length > query.limit ? encodeCursor(page.at(-1)!) : null };
}

/**
 * Re-queues a failed or dead delivery as a new generation and starts its run
 * (`webhook-delivery-<id>-retry-<n>`), with the full retry schedule again. A run of an older
 * generation still waiting on its schedule stops at its next attempt instead of sending twice.
 */
export async function retryDelivery(deps: AppDeps, tenantId: string, id: string): Promise<WebhookDelivery> {
  const { db } = deps.database;
  const [previous] = await db.select().from(webhookDeliveries).where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.tenantId, tenantId)));
  if (!previous) throw new NotFoundError({ detail: `Webhook delivery ${id} not found`, action: 'List deliveries with GET /v1/webhook-deliveries.' });
  const [requeued] = await db
    .update(webhookDeliveries)
    .set({ status: 'pending', generation: sql`${webhookDeliveries.generation} + 1`, nextAttemptAt: new Date() })
    .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.generation, previous.generation), inArray(webhookDeliveries.status, ['failed', 'dead'])))
    .returning();
  if (!requeued) {
    const [now] = await db.select({ status: webhookDeliveries.status }).from(webhookDeliveries).where(eq(webhookDeliveries.id, id));
    if (now?.status === 'succeeded') {
      throw new ConflictError({ code: 'delivery_succeeded', detail: `Webhook delivery ${id} already succeeded`, action: 'Nothing to retry.' });
    }
    throw new ConflictError({ code: 'delivery_in_progress', detail: `Webhook delivery ${id} is queued and about to be attempted`, action: 'Wait for the attempt; retry only failed or dead deliveries.' });
  }
  const input: WebhookDeliveryInput = { deliveryId: id, generation: requeued.generation, retryScheduleMs: deps.timers.webhookRetryScheduleMs ?? [...DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS] };
  try {
    await deps.temporal.withDeadline(Date.now() + TEMPORAL_CALL_DEADLINE_MS, () =>
      deps.temporal.workflow.start(WEBHOOK_DELIVERY_WORKFLOW_TYPE, { workflowId: webhookDeliveryWorkflowId(id, requeued.generation), taskQueue: deps.env.TEMPORAL_TASK_QUEUE, args: [input] }),
    );
  } catch (err) {
    // Nothing will attempt it: hand the row back to the generation that had it.
    await db
      .update(webhookDeliveries)
      .set({ status: previous.status, generation: previous.generation, nextAttemptAt: previous.nextAttemptAt })
      .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.generation, requeued.generation)));
    throw Object.assign(
      new ServiceUnavailableError({ code: 'temporal_unavailable', detail: 'The workflow service is unavailable; the delivery was not re-queued.', action: 'Retry the request later.' }),
      { cause: err },
    );
  }
  deps.logger.info({ deliveryId: id, generation: requeued.generation }, 'webhook delivery re-queued');
  return requeued;
}
