export * from './tenants.js';
export * from './verifications.js';
export * from './webhooks.js';
