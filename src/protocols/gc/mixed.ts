/**
 * Mixed protocols: 2-party additive shares over Z_2^64 ⇄ garbled values, and the non-linear
 * functions built on them — ReLU, [x < 0], max over groups — as one garbled circuit per call for a
 * whole vector (SIMD over the elements).
 *
 * Security model: semi-honest, two parties. Party P holds x_P with x = x_0 + x_1 mod 2^64 (which
 * party is "0" does not matter: addition is symmetric). One of them garbles ([ZRE15] half-gates,
 * [KS08] free-XOR, [GKWY20] hash), the other evaluates and gets its inputs by [IKNP03] correlated OT.
 *
 * A→Y: the circuit starts with a garbled 64-bit adder of the two shares (63 AND gates).
 * Y→A: the result leaves the circuit as additive shares (garbler R, evaluator v − R) through the
 *      per-bit output rows of src/protocols/gc/twoparty.ts (16 bytes per output bit, no ANDs).
 *
 * Per element (64-bit), after the once-per-pair session setup (base OTs, 2 flights, ~4 KiB):
 *                AND gates   bytes (G→E + E→G)                              flights
 *   gcRelu       126         32·126 + 16·64 + 16·64 (+COT 16·64) ≈ 7.1 KB    2 (one round trip)
 *   gcLtz        63          32·63 + 16·64 + 16 + 16·64 ≈ 4.1 KB            2
 *   gcMax (k)    (k-1)·128 + k·63 per group of k                             2
 * The secret-sharing comparison needs O(log 64) rounds instead; GC wins when round trips are
 * expensive, loses on bytes (measured numbers: docs/gc.md).
 */
import { invalidArgument } from '../../errors.js';
import type { Channel, OpScope } from '../channel.js';
import { sharedCircuit, sharedGroupMaxCircuit } from './builder.js';
import type { Circuit } from './circuit.js';
import { GcSession, type BitSource, type GcRunStats, type GcSessionOptions } from './twoparty.js';

export interface MixedOptions extends GcSessionOptions {
  /** Receives the run's statistics (AND gates, bytes, rounds, seconds). */
  onStats?: (s: GcRunStats) => void;
  /** Elements per segment (default: as many as fit ~32 MiB of labels). */
  segment?: number;
}

let reluC: Circuit | undefined;
let ltzC: Circuit | undefined;
const maxC = new Map<number, Circuit>();

/** The ReLU-on-shares circuit: inputs x0, x1 (64 bits); output max(x0 + x1, 0). */
export function reluSharedCircuit(): Circuit {
  return (reluC ??= sharedCircuit(64, (b, x) => b.relu(x)));
}

/** The sign circuit: inputs x0, x1; output [x0 + x1 < 0] (1 bit). */
export function ltzSharedCircuit(): Circuit {
  return (ltzC ??= sharedCircuit(64, (b, x) => b.ltz(x)));
}

function groupMaxCircuit(k: number): Circuit {
  let c = maxC.get(k);
  if (!c) {
    c = sharedGroupMaxCircuit(64, k);
    maxC.set(k, c);
  }
  return c;
}

/** Bits of consecutive 64-bit elements (instance-major, `width` = 64·k bits per instance). */
export function u64BitSource(x: BigUint64Array): BitSource {
  const w32 = new Uint32Array(x.buffer, x.byteOffset, 2 * x.length);
  return (first: number, count: number, width: number): Uint8Array => {
    const out = new Uint8Array(count * width);
    const wordsPer = width >> 5;
    const base = first * wordsPer;
    for (let j = 0; j < count * wordsPer; j++) {
      const v = w32[base + j]!;
      const o = j << 5;
      for (let b = 0; b < 32; b++) out[o + b] = (v >>> b) & 1;
    }
    return out;
  };
}

async function runShared(
  ch: Channel,
  scope: OpScope,
  circuit: Circuit,
  xShare: BigUint64Array,
  k: number,
  signed: boolean,
  opts: MixedOptions,
): Promise<BigUint64Array> {
  if (!(xShare instanceof BigUint64Array)) throw invalidArgument('shares must be a BigUint64Array');
  if (xShare.length % k !== 0)
    throw invalidArgument(`vector length ${xShare.length} is not a multiple of the group size ${k}`);
  const session = await GcSession.cached(ch, scope.child('gc.setup'), opts);
  const instances = xShare.length / k;
  if (instances === 0) {
    scope.child('gc.run');
    return new BigUint64Array(0);
  }
  const src = u64BitSource(xShare);
  const mine = session.role === 'garbler' ? 0 : 1;
  const inputs: (BitSource | undefined)[] = [undefined, undefined];
  inputs[mine] = src;
  const r = await session.run(scope.child('gc.run'), circuit, inputs, {
    instances,
    owners: [session.garbler, session.evaluator],
    outputs: [{ share: 'add64', signed }],
    ...(opts.segment !== undefined ? { segment: opts.segment } : {}),
  });
  opts.onStats?.(r.stats);
  return r.outputs[0] as BigUint64Array;
}

/**
 * ReLU on additively shared Z_2^64 values (two's complement): returns this party's share of
 * max(x, 0) for every element. Both parties call it with their shares and the same scope.
 */
export async function gcRelu(
  ch: Channel,
  scope: OpScope,
  xShare: BigUint64Array,
  opts: MixedOptions = {},
): Promise<BigUint64Array> {
  return runShared(ch, scope, reluSharedCircuit(), xShare, 1, false, opts);
}

/** Shares (over Z_2^64) of the bit [x < 0] for every element. */
export async function gcLtz(
  ch: Channel,
  scope: OpScope,
  xShare: BigUint64Array,
  opts: MixedOptions = {},
): Promise<BigUint64Array> {
  return runShared(ch, scope, ltzSharedCircuit(), xShare, 1, false, opts);
}

/**
 * Shares of the maximum of every group of `groupSize` consecutive elements (two's complement), e.g.
 * max-pooling windows laid out contiguously. Output length: xShare.length / groupSize.
 */
export async function gcMax(
  ch: Channel,
  scope: OpScope,
  xShare: BigUint64Array,
  groupSize: number,
  opts: MixedOptions = {},
): Promise<BigUint64Array> {
  if (!Number.isInteger(groupSize) || groupSize < 1 || groupSize > 1024)
    throw invalidArgument(`group size must be an integer in 1..1024, got ${groupSize}`);
  return runShared(ch, scope, groupMaxCircuit(groupSize), xShare, groupSize, false, opts);
}
