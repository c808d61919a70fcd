export * from './canonical.js';
export * from './roster.js';
export * from './approval.js';
export * from './policy.js';
