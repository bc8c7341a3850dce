// The worker's workflow bundle entry point.
export { verification } from './verification.js';
export { templateSync } from './template-sync.js';
export { webhookDelivery } from './webhook-delivery.js';
export { personalDataErasure, personalDataRetention } from './personal-data.js';
