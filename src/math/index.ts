export * as ring from './ring.js';
export * from './prg.js';
export * from './fixed.js';
export * from './bits.js';
export * from './kernels.js';
export * from './kernel-bench.js';
