// Sends every ordering of one Persona inquiry's five lifecycle events to its own verification
// (120 verifications in one stack, in bounded concurrent batches), then reads back what each
// workflow recorded. Shared by the fetch-before-apply and the reducer-only order tests.
import { asc, inArray } from 'drizzle-orm';
import { verificationHistory, verifications, webhookEvents } from '../../db/schema/index.ts';
import { decidePersonaInquiry, inBatches, permutations, personaEventBody, postPersonaWebhook } from './persona-webhooks.ts';
import { eventually, type Stack } from './stack.ts';

/** Persona's inquiry lifecycle with a manual review, in event-time order. */
export const LIFECYCLE = [
  { name: 'inquiry.created', status: 'created' },
  { name: 'inquiry.started', status: 'pending' },
  { name: 'inquiry.completed', status: 'completed' },
  { name: 'inquiry.marked-for-review', status: 'needs_review' },
  { name: 'inquiry.approved', status: 'approved' },
] as const;

export interface SentEvent {
  eventId: string;
  /** Index in LIFECYCLE: also the event-time order. */
  step: number;
  createdAt: Date;
}

export interface OrderRun {
  verificationId: string;
  inquiryId: string;
  /** In the order sent. */
  sent: SentEvent[];
  status: string;
  providerStatus: string | null;
  history: {
    seq: number;
    source: string;
    eventId: string | null;
    from: string | null;
    to: string;
    applied: boolean;
    reason: string | null;
  }[];
  outcomes: Map<string, string>;
}

export async function decideInSandbox(sandboxUrl: string, inquiryId: string, decision: string): Promise<void> {
  const status = await decidePersonaInquiry(sandboxUrl, inquiryId, decision);
  if (status !== 200) throw new Error(`sandbox decision answered ${status}`);
}

export async function runAllOrders(stack: Stack, options: { decideFirst?: 'approved'; concurrency?: number } = {}): Promise<OrderRun[]> {
  const orders = permutations(LIFECYCLE.map((_, step) => step));
  // Event times in the past, one second apart, the same for every verification.
  const base = Date.now() - 60_000;
  const runs = await inBatches(orders, options.concurrency ?? 12, async (order) => {
    const created = await stack.request('POST', '/v1/verifications', { provider: 'persona' }, { prefer: 'wait=30' });
    if (created.status !== 201) throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
    const verificationId: string = created.body.id;
    const inquiryId = new URL(created.body.sessionUrl).searchParams.get('inquiry-id')!;
    if (options.decideFirst) await decideInSandbox(stack.sandboxUrl, inquiryId, options.decideFirst);
    const sent: SentEvent[] = [];
    for (const step of order) {
      const { name, status } = LIFECYCLE[step]!;
      const createdAt = new Date(base + step * 1000);
      const { eventId, body } = personaEventBody({ name, createdAt, inquiryId, referenceId: verificationId, status });
      const response = await postPersonaWebhook(stack.apiUrl, body);
      if (response.status !== 200 || response.body.duplicate !== false)
        throw new Error(`webhook answered ${response.status}: ${JSON.stringify(response.body)}`);
      sent.push({ eventId, step, createdAt });
    }
    return { verificationId, inquiryId, sent };
  });

  const ids = runs.map((r) => r.verificationId);
  const expectedEvents = runs.length * LIFECYCLE.length;
  // Done when every stored event has the workflow's verdict.
  await eventually(
    () => stack.directDb.select({ outcome: webhookEvents.outcome }).from(webhookEvents).where(inArray(webhookEvents.verificationId, ids)),
    (rows) => rows.length === expectedEvents && rows.every((r) => r.outcome !== 'received' && r.outcome !== 'delivered'),
    { timeoutMs: 60_000, intervalMs: 250 },
  );

  const [rows, history, events] = await Promise.all([
    stack.directDb.select().from(verifications).where(inArray(verifications.id, ids)),
    stack.directDb
      .select()
      .from(verificationHistory)
      .where(inArray(verificationHistory.verificationId, ids))
      .orderBy(asc(verificationHistory.seq)),
    stack.directDb.select().from(webhookEvents).where(inArray(webhookEvents.verificationId, ids)),
  ]);
  return runs.map((run) => {
    const row = rows.find((r) => r.id === run.verificationId)!;
    return {
      ...run,
      status: row.status,
      providerStatus: row.providerStatus,
      history: history
        .filter((h) => h.verificationId === run.verificationId)
        .map((h) => ({
          seq: h.seq,
          source: h.source,
          eventId: h.eventId,
          from: h.fromStatus,
          to: h.toStatus,
          applied: h.applied,
          reason: h.reason,
        })),
      outcomes: new Map(events.filter((e) => e.verificationId === run.verificationId).map((e) => [e.providerEventId, e.outcome])),
    };
  });
}

export interface OrderTally {
  /** `status/providerStatus` -> how many verifications ended there. */
  finals: Map<string, number>;
  applied: number;
  notApplied: number;
  /** Why not applied -> count. */
  reasons: Map<string, number>;
  lost: number;
  duplicates: number;
  /** Verifications whose history is exactly their own (api) entry + the five webhook entries. */
  exactShape: number;
  /** Verdicts on the stored webhook rows, outcome -> count. */
  outcomes: Map<string, number>;
}

export function tally(runs: OrderRun[]): OrderTally {
  const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  const result: OrderTally = {
    finals: new Map(),
    applied: 0,
    notApplied: 0,
    reasons: new Map(),
    lost: 0,
    duplicates: 0,
    exactShape: 0,
    outcomes: new Map(),
  };
  for (const run of runs) {
    count(result.finals, `${run.status}/${run.providerStatus}`);
    const webhook = run.history.filter((h) => h.source === 'webhook');
    for (const h of webhook) {
      if (h.applied) result.applied += 1;
      else {
        result.notApplied += 1;
        count(result.reasons, h.reason ?? 'none');
      }
    }
    result.lost += run.sent.filter((e) => !webhook.some((h) => h.eventId === e.eventId)).length;
    result.duplicates += webhook.length - new Set(webhook.map((h) => h.eventId)).size;
    if (run.history.length === LIFECYCLE.length + 1 && run.history[0]?.source === 'api' && webhook.length === LIFECYCLE.length)
      result.exactShape += 1;
    for (const outcome of run.outcomes.values()) count(result.outcomes, outcome);
  }
  return result;
}

export function describeTally(s: OrderTally): string {
  const obj = (m: Map<string, number>) => JSON.stringify(Object.fromEntries(m));
  return `sent=${s.applied + s.notApplied} applied=${s.applied} notApplied=${s.notApplied} reasons=${obj(s.reasons)} duplicates=${s.duplicates} lost=${s.lost} exactShape=${s.exactShape} finals=${obj(s.finals)} outcomes=${obj(s.outcomes)}`;
}
