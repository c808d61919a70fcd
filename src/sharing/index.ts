export * as rep3 from './replicated/rep3.js';
