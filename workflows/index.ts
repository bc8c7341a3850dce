// The worker's workflow bundle entry point.
export { verification } from './verification.ts';
export { templateSync } from './template-sync.ts';
export { webhookDelivery } from './webhook-delivery.ts';
export { personalDataErasure, personalDataRetention } from './personal-data.ts';
