// The operator's side of stored webhooks the sweeper gave up on (`npm run webhooks`): list them,
// and after the repair (the workflow is running again, the provider is configured again) put
// them back in the sweeper's queue.
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { webhookEvents, type WebhookEvent } from '../../db/schema/index.ts';
import { storableJson } from '../../db/storable-json.ts';
import type { ProviderName } from '../../domain/verification.ts';
import type { ProviderDirectory } from '../deps.ts';
import { toProviderEvent } from './webhook-intake.ts';

export interface UndeliverableRow {
  id: string;
  provider: string;
  providerEventId: string;
  verificationId: string | null;
  attempts: number;
  reason: string | null;
  receivedAt: string;
}

export async function listUndeliverable(db: Database): Promise<UndeliverableRow[]> {
  const rows = await db
    .select()
    .from(webhookEvents)
    .where(eq(webhookEvents.outcome, 'undeliverable'))
    .orderBy(asc(webhookEvents.receivedAt));
  return rows.map((r) => ({
    id: r.id,
    provider: r.provider,
    providerEventId: r.providerEventId,
    verificationId: r.verificationId,
    attempts: r.deliveryAttempts,
    reason: r.errorMessage,
    receivedAt: r.receivedAt.toISOString(),
  }));
}

export interface RedriveResult {
  redriven: string[];
  /** Rows left undeliverable, with why. */
  skipped: { id: string; reason: string }[];
}

/**
 * Back to `received` with no attempts: the sweeper's next pass signals them. A row stored before
 * intake kept the normalised event is parsed once here, with the provider's configured adapter.
 */
export async function redriveUndeliverable(db: Database, providers: ProviderDirectory, ids: string[] | 'all'): Promise<RedriveResult> {
  const undeliverable = eq(webhookEvents.outcome, 'undeliverable');
  const rows = await db
    .select()
    .from(webhookEvents)
    .where(ids === 'all' ? undeliverable : and(undeliverable, inArray(webhookEvents.id, ids)));
  const result: RedriveResult = { redriven: [], skipped: [] };
  if (ids !== 'all') {
    for (const id of ids) if (!rows.some((r) => r.id === id)) result.skipped.push({ id, reason: 'not an undeliverable webhook event' });
  }
  for (const row of rows) {
    const event = row.event ?? parseStoredEvent(row, providers);
    if (typeof event === 'string') {
      result.skipped.push({ id: row.id, reason: event });
      continue;
    }
    await db
      .update(webhookEvents)
      .set({ outcome: 'received', deliveryAttempts: 0, errorMessage: null, nextSweepAt: null, event })
      .where(and(eq(webhookEvents.id, row.id), undeliverable));
    result.redriven.push(row.id);
  }
  return result;
}

/** The normalised event of a row stored without one, or why it cannot be built. */
function parseStoredEvent(row: WebhookEvent, providers: ProviderDirectory): Record<string, unknown> | string {
  if (!providers.has(row.provider)) return `provider '${row.provider}' is not configured: set its credentials, then re-drive`;
  const parsed = providers.get(row.provider as ProviderName).parseWebhook(Buffer.from(JSON.stringify(row.payload)));
  const event = toProviderEvent(row.provider as ProviderName, parsed, row.id);
  return event ? { ...storableJson(event) } : 'the stored payload carries no status to deliver';
}
