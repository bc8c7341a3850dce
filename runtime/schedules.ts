// Temporal schedules veriflow keeps: the 24-hourly template sync. Ensured at worker and dev start,
// idempotently: created (and run once right away) the first time, brought up to date afterwards.
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptionsStartWorkflowAction } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { ProviderName } from '../domain/verification.js';
import type { ProviderRegistry } from '../providers/index.js';
import type { TemplateSyncWorkflowInput, templateSync } from '../workflows/template-sync.js';

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
  try {
    await client.schedule.create<typeof templateSync>({
      scheduleId,
      spec,
      action,
      policies,
      // A fresh deployment has an empty cache: fill it now, not in 24 h.
      state: { triggerImmediately: true, note: 'Refreshes provider_templates from the template providers' },
    });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await client.schedule.getHandle(scheduleId).update<typeof templateSync>((previous) => ({
    ...previous,
    spec,
    action,
    policies,
    state: { paused: previous.state.paused, note: previous.state.note },
  }));
  return 'updated';
}
