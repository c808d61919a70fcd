/**
 * n-party additive sharing over Z_2^64 (dishonest majority, semi-honest) with dealer or OT-based
 * preprocessing. See docs/additive.md.
 */
export { AdditiveSession, checkAdditiveParams, MAX_PARTIES, type AdditiveSessionOptions } from './session.js';
export { runDealer, DealerClient, type DealerReport, type DealerOptions } from './dealer.js';
export { OtProvider } from './ot-prep.js';
export * from './prep.js';
export { setupAdditive, type AddCtx } from './context.js';
