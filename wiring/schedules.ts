// Temporal schedules veriflow keeps: the 24-hourly template sync and the personal-data retention sweep. Ensured at worker and dev start,
// idempotently: created (and run once right away) the first time, brought up to date afterwards.
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import type { Duration } from '@temporalio/common';
import type { ProviderName } from '../domain/verification.ts';
import type { ProviderRegistry } from '../providers/index.ts';
import type { PersonalDataRetentionInput } from '../workflows/messages.ts';
import type { personalDataRetention } from '../workflows/personal-data.ts';
import type { TemplateSyncWorkflowInput, templateSync } from '../workflows/template-sync.ts';

// The workflow's registered name, spelled here so this module never loads workflow code.
const TEMPLATE_SYNC_WORKFLOW = 'templateSync';

export const DEFAULT_TEMPLATE_SYNC_INTERVAL: Duration = '24h';

/** One schedule per task queue (one deployment per namespace and queue). */
export function templateSyncScheduleId(taskQueue: string): string {
  return `template-sync-${taskQueue}`;
}

/** Configured providers that have templates (multi-step providers such as IDmeta). */
export function templateProviders(registry: Pick<ProviderRegistry, 'list' | 'get'>): ProviderName[] {
  return registry.list().filter((name) => registry.get(name).steps !== undefined);
}

export interface TemplateSyncScheduleOptions {
  providers: ProviderName[];
  /** `24h` unless told otherwise. */
  every?: Duration;
}

export type TemplateSyncScheduleResult = 'created' | 'updated' | 'skipped';

/** Creates the schedule, or updates an existing one to this spec. No template providers: nothing to do. */
export async function ensureTemplateSyncSchedule(
  client: Client,
  taskQueue: string,
  options: TemplateSyncScheduleOptions,
): Promise<TemplateSyncScheduleResult> {
  if (options.providers.length === 0) return 'skipped';
  const scheduleId = templateSyncScheduleId(taskQueue);
  const input: TemplateSyncWorkflowInput = { providers: options.providers };
  const spec = { intervals: [{ every: options.every ?? DEFAULT_TEMPLATE_SYNC_INTERVAL }] };
  const action: ScheduleOptionsStartWorkflowAction<typeof templateSync> = {
    type: 'startWorkflow',
    workflowType: TEMPLATE_SYNC_WORKFLOW,
    workflowId: `template-sync-${taskQueue}`,
    taskQueue,
    args: [input],
    workflowExecutionTimeout: '1h',
  };
  // A sync still running when the next is due is enough; a missed run (Temporal down) runs once when it is back.
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1d' };
  return createOrUpdateSchedule<typeof templateSync>(client, {
    scheduleId,
    spec,
    action,
    policies,
    // A fresh deployment has an empty cache: fill it now, not in 24 h.
    state: { triggerImmediately: true, note: 'Refreshes provider_templates from the template providers' },
  });
}

/**
 * Creates the schedule, or brings an existing one to this spec, action and policies while keeping
 * what an operator set on it (paused, note).
 */
async function createOrUpdateSchedule<W extends Workflow>(
  client: Client,
  options: ScheduleOptions<ScheduleOptionsStartWorkflowAction<W>>,
): Promise<'created' | 'updated'> {
  try {
    await client.schedule.create<W>(options);
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const { spec, action, policies } = options;
  await client.schedule.getHandle(options.scheduleId).update<W>((previous) => ({
    ...previous,
    spec,
    action,
    ...(policies ? { policies } : {}),
    state: { paused: previous.state.paused, note: previous.state.note },
  }));
  return 'updated';
}

// The retention sweep: erases personal data RETENTION_PERSONAL_DATA after each decision. A
// schedule, not a timer per verification: verifications decided before the setting existed (or
// whose workflows closed long ago) are swept too, and a changed setting applies to all at once.
const PERSONAL_DATA_RETENTION_WORKFLOW = 'personalDataRetention';

export function personalDataRetentionScheduleId(taskQueue: string): string {
  return `personal-data-retention-${taskQueue}`;
}

/** Sweeps a tenth of the retention apart, between 1 s and 1 h: an erasure is at most that late. */
export function retentionSweepIntervalMs(retentionMs: number): number {
  return Math.min(3_600_000, Math.max(1_000, Math.round(retentionMs / 10)));
}

export interface RetentionScheduleOptions {
  /** RETENTION_PERSONAL_DATA in ms; null deletes the schedule (personal data is kept). */
  retentionMs: number | null;
  retryScheduleMs: number[];
}

export type RetentionScheduleResult = TemplateSyncScheduleResult | 'deleted';

export async function ensureRetentionSchedule(
  client: Client,
  taskQueue: string,
  options: RetentionScheduleOptions,
): Promise<RetentionScheduleResult> {
  const scheduleId = personalDataRetentionScheduleId(taskQueue);
  const handle = client.schedule.getHandle(scheduleId);
  if (options.retentionMs === null) {
    try {
      await handle.delete();
      return 'deleted';
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return 'skipped';
      throw err;
    }
  }
  const input: PersonalDataRetentionInput = { retentionMs: options.retentionMs, retryScheduleMs: options.retryScheduleMs };
  const spec = { intervals: [{ every: retentionSweepIntervalMs(options.retentionMs) }] };
  const action: ScheduleOptionsStartWorkflowAction<typeof personalDataRetention> = {
    type: 'startWorkflow',
    workflowType: PERSONAL_DATA_RETENTION_WORKFLOW,
    workflowId: `personal-data-retention-${taskQueue}`,
    taskQueue,
    args: [input],
  };
  // One sweep at a time; sweeps missed while Temporal was down run once when it is back.
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1d' };
  return createOrUpdateSchedule<typeof personalDataRetention>(client, {
    scheduleId,
    spec,
    action,
    policies,
    state: { note: 'Erases personal data RETENTION_PERSONAL_DATA after each decision' },
  });
}
