export * as rep3 from './replicated/rep3.js';
export * as rep4 from './replicated/rep4.js';
export * as additive from './additive/additive.js';
export * as shamir from './shamir/index.js';
