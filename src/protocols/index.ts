export * from './channel.js';
export * as rep3 from './rep3/index.js';
export * from './engine.js';
export * from './subchannel.js';
