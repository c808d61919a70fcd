export * from './csv.js';
export * from './partition.js';
export * from './standardize.js';
