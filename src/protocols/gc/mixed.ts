/**
 * Mixed protocols: 2-party additive shares over Z_2^64 ⇄ garbled values, and the non-linear
 * functions built on them — ReLU (and its derivative), [x < 0], [x < y], [x == y], max/argmax over
 * groups — as one garbled circuit per call for a whole vector (SIMD over the elements).
 *
 * Security model: semi-honest, two parties. Party P holds x_P with x = x_0 + x_1 mod 2^64 (which
 * party is "0" does not matter: addition is symmetric). One of them garbles ([ZRE15] half-gates,
 * [KS08] free-XOR, [GKWY20] hash), the other evaluates and gets its inputs by [IKNP03] correlated OT.
 *
 * A→Y: the circuit starts with a garbled 64-bit adder of the two shares (63 AND gates).
 * Y→A: the result leaves the circuit as additive shares (garbler R, evaluator v − R) through the
 *      per-bit output rows of src/protocols/gc/twoparty.ts (16 bytes per output bit, no ANDs).
 *
 * Per element (64-bit), after the once-per-pair session setup (base OTs, 2 flights, ~4 KiB).
 * Bytes = 32·AND + 1,024 (garbler input labels) + 1,024 (OT for the evaluator's share) + 16 per
 * output bit; every call is one round trip (two flights):
 *   gcRelu       126 AND   7,104 B        gcReluDerivative  126 AND  7,120 B
 *   gcLtz, gcLt   63 AND   4,080 B        gcEq              126 AND  6,096 B
 *   gcMax / gcMaxArgmax over a group of k: 63·k + 128·(k−1) (+ index muxes) AND per group
 * Ties in argmax resolve to the lowest index. The values are read as two's complement.
 */
import { invalidArgument } from '../../errors.js';
import type { Channel, OpScope } from '../channel.js';
import { CircuitBuilder, sharedCircuit, sharedGroupMaxCircuit, ZERO } from './builder.js';
import type { Circuit } from './circuit.js';
import { GcSession, type BitSource, type GcRunStats, type GcSessionOptions } from './twoparty.js';

export interface MixedOptions extends GcSessionOptions {
  /** Receives the run's statistics (AND gates, bytes, rounds, seconds). */
  onStats?: (s: GcRunStats) => void;
  /** Elements per segment (default: as many as fit ~32 MiB of labels). */
  segment?: number;
}

const circuits = new Map<string, Circuit>();
function memo(key: string, make: () => Circuit): Circuit {
  let c = circuits.get(key);
  if (!c) {
    c = make();
    circuits.set(key, c);
  }
  return c;
}

/** The ReLU-on-shares circuit: inputs x0, x1 (64 bits); output max(x0 + x1, 0). */
export function reluSharedCircuit(): Circuit {
  return memo('relu', () => sharedCircuit(64, (b, x) => b.relu(x)));
}

/** Outputs max(x, 0) and [x ≥ 0] (the derivative, as rep3's drelu: 1 − [x < 0]). */
export function reluDerivativeSharedCircuit(): Circuit {
  return memo('relu+d', () => {
    const b = new CircuitBuilder();
    const x0 = b.input(64);
    const x1 = b.input(64);
    const x = b.add(x0, x1);
    b.output(b.relu(x));
    b.output([b.not(b.ltz(x))]);
    return b.build();
  });
}

/** The sign circuit: inputs x0, x1; output [x0 + x1 < 0] (1 bit). */
export function ltzSharedCircuit(): Circuit {
  return memo('ltz', () => sharedCircuit(64, (b, x) => b.ltz(x)));
}

/** [x0 + x1 == 0] (1 bit): 63 ANDs for the adder, 63 for the zero test. */
export function eqzSharedCircuit(): Circuit {
  return memo('eqz', () => sharedCircuit(64, (b, x) => b.eq(x, new Int32Array(64).fill(ZERO))));
}

function groupMaxCircuit(k: number, argmax: boolean): Circuit {
  return memo(`max${k}${argmax ? 'a' : ''}`, () => sharedGroupMaxCircuit(64, k, argmax));
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

/** Run a shared-input circuit on groups of `k` elements; every output comes back as Z_2^64 shares. */
async function runShared(
  ch: Channel,
  scope: OpScope,
  circuit: Circuit,
  xShare: BigUint64Array,
  k: number,
  opts: MixedOptions,
): Promise<BigUint64Array[]> {
  if (!(xShare instanceof BigUint64Array)) throw invalidArgument('shares must be a BigUint64Array');
  if (xShare.length % k !== 0)
    throw invalidArgument(`vector length ${xShare.length} is not a multiple of the group size ${k}`);
  const session = await GcSession.cached(ch, scope.child('gc.setup'), opts);
  const instances = xShare.length / k;
  const runScope = scope.child('gc.run');
  if (instances === 0) return circuit.outputs.map(() => new BigUint64Array(0));
  const inputs: (BitSource | undefined)[] = [undefined, undefined];
  inputs[session.role === 'garbler' ? 0 : 1] = u64BitSource(xShare);
  const r = await session.run(runScope, circuit, inputs, {
    instances,
    owners: [session.garbler, session.evaluator],
    outputs: circuit.outputs.map(() => ({ share: 'add64' as const })),
    ...(opts.segment !== undefined ? { segment: opts.segment } : {}),
  });
  opts.onStats?.(r.stats);
  return r.outputs as BigUint64Array[];
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
  return (await runShared(ch, scope, reluSharedCircuit(), xShare, 1, opts))[0]!;
}

/** Shares of max(x, 0) and of its derivative [x ≥ 0] (0/1), in one circuit. */
export async function gcReluDerivative(
  ch: Channel,
  scope: OpScope,
  xShare: BigUint64Array,
  opts: MixedOptions = {},
): Promise<{ y: BigUint64Array; d: BigUint64Array }> {
  const [y, d] = await runShared(ch, scope, reluDerivativeSharedCircuit(), xShare, 1, opts);
  return { y: y!, d: d! };
}

/** Shares (over Z_2^64) of the bit [x < 0] for every element. */
export async function gcLtz(
  ch: Channel,
  scope: OpScope,
  xShare: BigUint64Array,
  opts: MixedOptions = {},
): Promise<BigUint64Array> {
  return (await runShared(ch, scope, ltzSharedCircuit(), xShare, 1, opts))[0]!;
}

/** Shares of [x < y] = [x − y < 0] (exact while |x − y| < 2^63). */
export async function gcLt(
  ch: Channel,
  scope: OpScope,
  xShare: BigUint64Array,
  yShare: BigUint64Array,
  opts: MixedOptions = {},
): Promise<BigUint64Array> {
  if (xShare.length !== yShare.length) throw invalidArgument('gcLt: vectors of different lengths');
  return gcLtz(
    ch,
    scope,
    xShare.map((v, i) => v - yShare[i]!),
    opts,
  );
}

/** Shares of [x == y] (0/1). */
export async function gcEq(
  ch: Channel,
  scope: OpScope,
  xShare: BigUint64Array,
  yShare: BigUint64Array,
  opts: MixedOptions = {},
): Promise<BigUint64Array> {
  if (xShare.length !== yShare.length) throw invalidArgument('gcEq: vectors of different lengths');
  const d = xShare.map((v, i) => v - yShare[i]!);
  return (await runShared(ch, scope, eqzSharedCircuit(), d, 1, opts))[0]!;
}

function checkGroup(groupSize: number): void {
  if (!Number.isInteger(groupSize) || groupSize < 1 || groupSize > 1024)
    throw invalidArgument(`group size must be an integer in 1..1024, got ${groupSize}`);
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
  checkGroup(groupSize);
  return (await runShared(ch, scope, groupMaxCircuit(groupSize, false), xShare, groupSize, opts))[0]!;
}

/**
 * Row-wise max and argmax of a row-major [rows × cols] shared matrix (the engine's maxArgmax):
 * shares of the maximum and of its column index (lowest index on ties).
 */
export async function gcMaxArgmax(
  ch: Channel,
  scope: OpScope,
  xShare: BigUint64Array,
  rows: number,
  cols: number,
  opts: MixedOptions = {},
): Promise<{ max: BigUint64Array; argmax: BigUint64Array }> {
  checkGroup(cols);
  if (xShare.length !== rows * cols)
    throw invalidArgument(`maxArgmax: ${xShare.length} elements is not ${rows}×${cols}`);
  const [max, argmax] = await runShared(ch, scope, groupMaxCircuit(cols, true), xShare, cols, opts);
  return { max: max!, argmax: argmax! };
}
