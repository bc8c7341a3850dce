// Persisting what the workflow decided: history, status snapshot, documents and webhook
// outcomes in one transaction, idempotent under activity retries (history rows are keyed by
// the workflow's sequence number).
import { and, eq, getTableColumns, inArray } from 'drizzle-orm';
import { verificationHistory, verifications, webhookEvents } from '../db/schema/index.ts';
import type { RecordedEffect } from '../domain/history.ts';
import { isTerminalStatus, type ProviderName, type VerificationStatus } from '../domain/verification.ts';
import type { ActivityDeps } from './deps.ts';
import { verificationChangedNotice } from '../db/change-notice.ts';
import { isErasedPayload } from '../db/personal-data.ts';
import { deliveredColumns } from '../db/webhook-delivered.ts';
import { webhookEventsLockedInIdOrder } from '../db/webhook-row-locks.ts';
import { saveDocument } from './documents.ts';
import { enqueueWebhookEventsOf, webhookEventsOf } from './outbound-webhooks.ts';

export type WebhookOutcome = 'applied' | 'stale' | 'duplicate' | 'unconfirmed';

export interface RecordEventsRequest {
  verificationId: string;
  provider: ProviderName;
  effects: RecordedEffect[];
  webhookOutcomes: { webhookEventId: string; outcome: WebhookOutcome }[];
  snapshot: { status: VerificationStatus; providerStatus: string | null; reasons: string[] };
}

export interface RecordEventsResult {
  /** Outbound webhook deliveries written with this change; the workflow starts one child per id. */
  webhookDeliveryIds: string[];
}

export function createRecordActivities({ db, providers, logger, metrics }: ActivityDeps) {
  return {
    async recordEvents(request: RecordEventsRequest): Promise<RecordEventsResult> {
      const { verificationId, snapshot } = request;
      const entries = request.effects.flatMap((e) => (e.type === 'record' ? [e.entry] : []));
      const documentEffects = request.effects.flatMap((e) => (e.type === 'storeDocument' ? [e] : []));
      const webhookDeliveryIds = await db.transaction(async (tx) => {
        if (entries.length > 0) {
          await tx
            .insert(verificationHistory)
            .values(
              entries.map((e) => ({
                verificationId,
                seq: e.seq,
                at: new Date(e.at),
                source: e.source,
                eventId: e.eventId,
                fromStatus: e.from,
                toStatus: e.to,
                applied: e.applied,
                reason: e.reason,
              })),
            )
            .onConflictDoNothing({ target: [verificationHistory.verificationId, verificationHistory.seq] });
        }
        for (const effect of documentEffects) {
          const [stored] = await tx
            .select({ provider: webhookEvents.provider, payload: webhookEvents.payload })
            .from(webhookEvents)
            .where(eq(webhookEvents.id, effect.webhookEventId));
          // Erased: the body is gone, and the guard trigger would drop the document anyway.
          if (!stored || isErasedPayload(stored.payload)) continue;
          const parsed = providers.get(stored.provider as ProviderName).parseWebhook(Buffer.from(JSON.stringify(stored.payload)));
          if (parsed.document)
            await saveDocument(tx, {
              verificationId,
              document: parsed.document,
              sourceEventId: effect.eventId,
              onlyIfMissing: effect.onlyIfMissing,
            });
        }
        // The UPDATE locks the row (two recordings of one verification number their outbound
        // webhooks in turn), returns it as it now is for those webhooks, and queues the change
        // notice (delivered on commit): one round trip for what were three.
        const [row] = await tx
          .update(verifications)
          .set({
            status: snapshot.status,
            providerStatus: snapshot.providerStatus,
            result: isTerminalStatus(snapshot.status) ? { decision: snapshot.status, reasons: snapshot.reasons } : null,
            updatedAt: new Date(),
          })
          .where(eq(verifications.id, verificationId))
          .returning({ ...getTableColumns(verifications), notice: verificationChangedNotice(verificationId) });
        // One UPDATE per verdict below would lock the rows verdict by verdict, not in id order.
        const judged = request.webhookOutcomes.map((o) => o.webhookEventId);
        if (new Set(request.webhookOutcomes.map((o) => o.outcome)).size > 1) {
          await webhookEventsLockedInIdOrder(tx, inArray(webhookEvents.id, judged));
        }
        for (const outcome of ['applied', 'stale', 'duplicate', 'unconfirmed'] as const) {
          const ids = request.webhookOutcomes.filter((o) => o.outcome === outcome).map((o) => o.webhookEventId);
          if (ids.length === 0) continue;
          // A duplicate is the same stored row signalled again (intake and sweeper racing, a sweep
          // after a lost ack): the verdict it got the first time stands.
          const locked = inArray(webhookEvents.id, webhookEventsLockedInIdOrder(tx, inArray(webhookEvents.id, ids)));
          const rows = outcome === 'duplicate' ? and(locked, inArray(webhookEvents.outcome, ['received', 'delivered'])) : locked;
          // The workflow has the event, so it was delivered, even when the signal's answer was
          // lost and the dispatcher recorded "Temporal unreachable": no pass claims a row that
          // has a verdict, so only this update can say so.
          await tx
            .update(webhookEvents)
            .set({ outcome, processedAt: new Date(), ...deliveredColumns() })
            .where(rows);
        }
        return row ? enqueueWebhookEventsOf(tx, row, webhookEventsOf(request.effects, row.providerRef !== null)) : [];
      });
      for (const effect of request.effects) {
        if (effect.type === 'statusChanged') metrics?.transitions.inc({ provider: request.provider, status: effect.to });
      }
      for (const { outcome } of request.webhookOutcomes) metrics?.webhooksReceived.inc({ provider: request.provider, outcome });
      logger.debug(
        { verificationId, entries: entries.length, status: snapshot.status, webhookDeliveries: webhookDeliveryIds.length },
        'verification events recorded',
      );
      return { webhookDeliveryIds };
    },
  };
}
