// The worker's workflow bundle entry point.
export { verification } from './verification.js';
