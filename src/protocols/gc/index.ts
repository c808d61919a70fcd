/**
 * Garbled circuits: Bristol circuits and builders, the layered schedule and gate backends,
 * half-gates garbling [ZRE15] with free-XOR [KS08] and the [GKWY20] fixed-key AES hash, two-party
 * execution over the Channel, and mixed protocols (Z_2^64 shares ⇄ garbled values: gcRelu, gcLtz,
 * gcMax). Semi-honest. See docs/gc.md.
 */
export * from './circuit.js';
export * from './builder.js';
export {
  compileSchedule,
  evaluateClear,
  runSchedule,
  ClearBackend,
  type GateBackend,
  type Schedule,
} from './schedule.js';
export { FixedKeyAes, tccrHash } from './hash.js';
export { HalfGateEvaluator, HalfGateGarbler, AND_CHUNK, type TweakCounter } from './halfgates.js';
export {
  GcSession,
  runTwoParty,
  hexToBits,
  bitsToHex,
  scheduleOf,
  type BitSource,
  type GcRunOptions,
  type GcRunResult,
  type GcRunStats,
  type GcSessionOptions,
  type OutputSpec,
  type Role,
} from './twoparty.js';
export {
  gcEq,
  gcLt,
  gcLtz,
  gcMax,
  gcMaxArgmax,
  gcRelu,
  gcReluDerivative,
  eqzSharedCircuit,
  ltzSharedCircuit,
  reluDerivativeSharedCircuit,
  reluSharedCircuit,
  u64BitSource,
  type MixedOptions,
} from './mixed.js';
