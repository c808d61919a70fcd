export * from './channel.js';
export * as rep3 from './rep3/index.js';
export * from './engine.js';
export * from './subchannel.js';
export * as gc from './gc/index.js';
export * as ot from './ot/index.js';
export * as rep4 from './rep4/index.js';
export * as additive from './additive/index.js';
export * as shamir from './shamir/index.js';
