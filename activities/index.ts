import type { ActivityDeps } from './deps.ts';
import { createEmailActivities } from './email.ts';
import { createOutboundWebhookActivities } from './outbound-webhooks.ts';
import { createPersonalDataActivities } from './personal-data.ts';
import { createRecordActivities } from './records.ts';
import { createSessionActivities } from './sessions.ts';
import { createStepActivities } from './steps.ts';
import { createTemplateActivities } from './templates.ts';

export type { ActivityDeps } from './deps.ts';

/** Built once by the worker with its dependencies; workflows import only this function's type. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createSessionActivities(deps),
    ...createRecordActivities(deps),
    ...createStepActivities(deps),
    ...createTemplateActivities(deps),
    ...createOutboundWebhookActivities(deps),
    ...createEmailActivities(deps),
    ...createPersonalDataActivities(deps),
  };
}
