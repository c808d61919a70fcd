/** Modules with explicit backward, losses and optimizers over secret tensors (docs/ml.md, docs/ml-modules.md). */
export * from './module.js';
export * from './linear.js';
export * from './activations.js';
export * from './conv.js';
export * from './norm.js';
export * from './loss.js';
export * from './optim.js';
