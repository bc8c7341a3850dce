// The client's side of outbound webhooks: its endpoint (one per tenant), the deliveries made to
// it, and manual retries of those that failed. Deliveries themselves are written by the worker.
import { randomBytes } from 'node:crypto';
import type { Static } from '@sinclair/typebox';
import { and, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS } from '../../domain/retry-schedule.ts';
import { WorkflowNotFoundError } from '@temporalio/client';
import {
  webhookDeliveries,
  webhookEndpoints,
  type WebhookDelivery,
  type WebhookDeliveryStatus,
  type WebhookEndpoint,
} from '../../db/schema/index.ts';
import { webhookDeliveryWorkflowId } from '../../workflows/messages.ts';
import { hostRefusal, schemeRefusal, type OutboundPolicy } from '../../wiring/outbound-address.ts';
import type { AppDeps } from '../deps.ts';
import { badRequest, conflict, notFound, serviceUnavailable } from '../errors.ts';
import { DEFAULT_PAGE_SIZE, type WebhookDeliveryListQuery, type WebhookDeliverySchema, type WebhookEndpointSchema } from '../schemas.ts';
import { afterCursor, encodeCursor } from './keyset-cursor.ts';
import { startDeliveryRun } from './outbound-sweeper.ts';
import { TEMPORAL_CALL_DEADLINE_MS } from './start-workflow.ts';

type DeliveryJson = Static<typeof WebhookDeliverySchema>;
type EndpointJson = Static<typeof WebhookEndpointSchema>;

/** Standard Webhooks secret: `whsec_` + base64 of 24 random bytes (the key is the decoded bytes). */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

export function toEndpointJson(row: WebhookEndpoint, now = new Date()): EndpointJson {
  const graceUntil = row.previousSecretExpiresAt !== null && row.previousSecretExpiresAt > now ? row.previousSecretExpiresAt : null;
  return {
    url: row.url,
    secret: row.secret,
    previousSecretExpiresAt: graceUntil?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
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
 * change (receivers keep verifying) unless `rotateSecret` asks for a new one; the replaced secret
 * then keeps signing beside it for `secretGraceMs`, so receivers switch without a gap.
 */
export async function putEndpoint(
  db: Database,
  tenantId: string,
  input: { url: string; rotateSecret?: boolean },
  policy: OutboundPolicy,
  secretGraceMs: number,
): Promise<{ endpoint: WebhookEndpoint; created: boolean }> {
  const url = new URL(input.url);
  const badScheme = schemeRefusal(url, policy);
  if (badScheme) {
    throw badRequest({
      code: 'invalid_webhook_url',
      detail: `Webhook URL '${input.url}' ${badScheme}`,
      action: 'Send an https:// URL your server receives POST requests at.',
    });
  }
  // Names are checked again on every delivery, against the address they resolve to then.
  const badHost = hostRefusal(url, policy);
  if (badHost) {
    throw badRequest({
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
      set: {
        url: url.toString(),
        updatedAt: new Date(),
        ...(input.rotateSecret
          ? {
              secret: generateWebhookSecret(),
              previousSecret: sql`${webhookEndpoints.secret}`,
              previousSecretExpiresAt: new Date(Date.now() + secretGraceMs),
            }
          : {}),
      },
    })
    .returning();
  return { endpoint: endpoint!, created: existing === null };
}

/** Newest first, keyset-paginated like /v1/verifications. */
export async function listDeliveries(
  db: Database,
  tenantId: string,
  query: Static<typeof WebhookDeliveryListQuery>,
): Promise<{ data: DeliveryJson[]; nextCursor: string | null }> {
  const conditions: SQL[] = [eq(webhookDeliveries.tenantId, tenantId)];
  if (query.status) conditions.push(eq(webhookDeliveries.status, query.status));
  if (query.verificationId) conditions.push(eq(webhookDeliveries.verificationId, query.verificationId));
  if (query.cursor) {
    conditions.push(afterCursor(webhookDeliveries, query.cursor));
  }
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  const rows = await db
    .select()
    .from(webhookDeliveries)
    .where(and(...conditions))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  return { data: page.map(toDeliveryJson), nextCursor: rows.length > limit ? encodeCursor(page.at(-1)!) : null };
}

/**
 * Re-queues a failed or dead delivery — or a pending one whose run never started — as a new
 * generation and starts its run (`webhook-delivery-<id>-retry-<n>`), with the full retry schedule
 * again. A run of an older generation still waiting on its schedule stops at its next attempt
 * instead of sending twice.
 */
export async function retryDelivery(deps: AppDeps, tenantId: string, id: string): Promise<WebhookDelivery> {
  const { db } = deps.database;
  const [previous] = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.tenantId, tenantId)));
  if (!previous) throw notFound({ detail: `Webhook delivery ${id} not found`, action: 'List deliveries with GET /v1/webhook-deliveries.' });
  const retryable: WebhookDeliveryStatus[] =
    previous.status === 'pending' && !(await hasRunningRun(deps, previous)) ? ['failed', 'dead', 'pending'] : ['failed', 'dead'];
  const [requeued] = await db
    .update(webhookDeliveries)
    .set({ status: 'pending', generation: sql`${webhookDeliveries.generation} + 1`, nextAttemptAt: new Date() })
    .where(
      and(
        eq(webhookDeliveries.id, id),
        eq(webhookDeliveries.generation, previous.generation),
        inArray(webhookDeliveries.status, retryable),
      ),
    )
    .returning();
  if (!requeued) {
    const [now] = await db.select({ status: webhookDeliveries.status }).from(webhookDeliveries).where(eq(webhookDeliveries.id, id));
    if (now?.status === 'succeeded') {
      throw conflict({
        code: 'delivery_succeeded',
        detail: `Webhook delivery ${id} already succeeded`,
        action: 'Nothing to retry.',
      });
    }
    throw conflict({
      code: 'delivery_in_progress',
      detail: `Webhook delivery ${id} is queued and about to be attempted`,
      action: 'Wait for the attempt; retry only failed or dead deliveries.',
    });
  }
  const started = await startDeliveryRun(
    { temporal: deps.temporal, taskQueue: deps.env.TEMPORAL_TASK_QUEUE, retryScheduleMs: retryScheduleOf(deps) },
    requeued,
  );
  // `running`: the outbound sweeper started this generation's run a moment ago.
  if (started === 'unavailable' || started === 'failed') {
    // Nothing will attempt it: hand the row back to the generation that had it.
    await db
      .update(webhookDeliveries)
      .set({ status: previous.status, generation: previous.generation, nextAttemptAt: previous.nextAttemptAt })
      .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.generation, requeued.generation)));
    throw serviceUnavailable({
      code: 'temporal_unavailable',
      detail: 'The workflow service is unavailable; the delivery was not re-queued.',
      action: 'Retry the request later.',
    });
  }
  deps.logger.info({ deliveryId: id, generation: requeued.generation }, 'webhook delivery re-queued');
  return requeued;
}

export function retryScheduleOf(deps: Pick<AppDeps, 'timers'>): number[] {
  return deps.timers.webhookRetryScheduleMs ?? [...DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS];
}

/** Whether this generation's run exists and runs (a pending row without one is stuck). */
async function hasRunningRun(deps: AppDeps, row: WebhookDelivery): Promise<boolean> {
  try {
    const run = await deps.temporal.withDeadline(Date.now() + TEMPORAL_CALL_DEADLINE_MS, () =>
      deps.temporal.workflow.getHandle(webhookDeliveryWorkflowId(row.id, row.generation)).describe(),
    );
    return run.status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw Object.assign(
      serviceUnavailable({
        code: 'temporal_unavailable',
        detail: 'The workflow service is unavailable; the delivery was not re-queued.',
        action: 'Retry the request later.',
      }),
      { cause: err },
    );
  }
}
