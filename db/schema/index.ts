export * from './outbound.ts';
export * from './personal-data.ts';
export * from './read-budgets.ts';
export * from './templates.ts';
export * from './tenants.ts';
export * from './verifications.ts';
export * from './webhooks.ts';
