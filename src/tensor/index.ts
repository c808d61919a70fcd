/** Secret tensors over any engine (see docs/tensor.md). */
export * from './shape.js';
export * from './public.js';
export * from './tensor.js';
export * from './range.js';
