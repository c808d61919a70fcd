export * from './shamir.js';
