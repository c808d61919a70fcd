export * from './context.js';
export * from './reveal.js';
export * from './mul.js';
export * from './prep.js';
export * from './trunc.js';
export * from './compare.js';
export * from './max.js';
export * from './session.js';
