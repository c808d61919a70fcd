export * from './jobs.js';
export * from './launcher.js';
