export * from './outbound.js';
export * from './personal-data.js';
export * from './templates.js';
export * from './tenants.js';
export * from './verifications.js';
export * from './webhooks.js';
