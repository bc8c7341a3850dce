import type { ActivityDeps } from './deps.js';
import { createEmailActivities } from './email.js';
import { createOutboundWebhookActivities } from './outbound-webhooks.js';
import { createPersonalDataActivities } from './personal-data.js';
import { createRecordActivities } from './records.js';
import { createSessionActivities } from './sessions.js';
import { createStepActivities } from './steps.js';
import { createTemplateActivities } from './templates.js';

export type { ActivityDeps } from './deps.js';

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
