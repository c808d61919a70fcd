/**
 * Comparisons for four-party replicated sharing: the sign bit by a log-depth carry tree on binary
 * shares, then bit injection back to arithmetic (the same circuit as rep3 [ABY3 §5.3], fed by a
 * cheaper rep4-specific split).
 *
 * Split: x = u + v with u = x_0 + x_1 known to the pair A = {2, 3} and v = x_2 + x_3 known to the pair
 * B = {0, 1}. Each pair inputs the bits of its summand in one joint-input round (inp.ts; no carry-save
 * layer is needed, unlike rep3's three summands). Then msb(x) = u_63 ⊕ v_63 ⊕ carry into bit 63, with
 * generate g_j = u_j ∧ v_j (one AND round) and propagate p_j = u_j ⊕ v_j for j = 0..62, and the carry
 * out of positions 0..62 by rep3's `carryOuts` tree (6 rounds) on the rep4 `BitAlgebra`.
 *
 * ltz(x) = [x < 0] for x read as a signed 64-bit value. Rounds: 1 (pair inputs) + 1 (generate) + 6
 * (carry tree) + 1 (injection with a preprocessed daBit) = 9; without daBits the injection takes 2.
 * Bytes per element per party ≈ 4 (inputs: 64 bits per pair, split over its members) + 8 (63 generate
 * gates at 1 bit: u is pair A's input and v pair B's, so only four pairs take part, `andCrossWords`)
 * + 22 (118 tree gates at 1.5 bits) + 1/8 (masked bit) ≈ 34.
 * lt(x, y) = ltz(x − y), valid when |x − y| < 2^63; eq(x, y) = 1 − ltz(x − y) − ltz(y − x) as one batch;
 * drelu = 1 − ltz; relu(x) = x · drelu(x): one more multiplication (10 rounds).
 * Narrow comparisons: ltz/drelu/relu take a `width` k when the caller can bound |x| < 2^(k−1) (see
 * `msbBinary`): ≈ 34·k/64 bytes, one round less for k ≤ 33.
 * Security: semi-honest, one corrupt party (each pair member sees only masked bits of the other pair's
 * summand).
 */
import { toPlanes, wordsPerPlane } from '../../math/bits.js';
import * as R from '../../math/ring.js';
import type { OpScope } from '../channel.js';
import {
  addScalarA,
  concatA,
  negA,
  sliceA,
  slotOf,
  subA,
  type Rep4A,
  type Rep4B,
} from '../../sharing/replicated/rep4.js';
import { carryOuts } from '../rep3/adder.js';
import type { Rep4Ctx } from './context.js';
import { JointRound, PAIR_A, PAIR_B, SCRATCH, scratch, zerosB } from './inp.js';
import { rep4Bits, xorPlane4, type Plane4 } from './mul.js';
import { bitInject, bitInjectDa, type DaBits4 } from './b2a.js';
import { andCrossWords, mulA } from './mul.js';
import { invalidArgument } from '../../errors.js';

/** Supplies n preprocessed daBits (or null to inject without preprocessing). */
export type DaBitSource4 = ((n: number) => Promise<DaBits4>) | null;

/**
 * Binary sharings of the pair summands of x: [u] (u = x_0 + x_1, from pair A) and [v] (v = x_2 + x_3,
 * from pair B), their low `planes` bit planes (default all 64), in one round.
 */
export async function pairSplitBits(
  ctx: Rep4Ctx,
  scope: OpScope,
  x: Rep4A,
  planes = 64,
): Promise<[Rep4B, Rep4B]> {
  const me = ctx.me;
  const n = x.c[0].length;
  const u = zerosB(n, planes);
  const v = zerosB(n, planes);
  const L = u.c[0].length;
  // the low `planes` bit planes of each summand (toPlanes lays planes out lowest first)
  // (only the low `planes` are transposed; the sum is a scratch temporary, dead once transposed)
  const sum = (i: number, j: number) => (): Uint32Array =>
    toPlanes(
      R.add(
        x.c[slotOf(me, i)]!,
        x.c[slotOf(me, j)]!,
        new BigUint64Array(scratch(SCRATCH.splitSum, n * 8), 0, n),
      ),
      planes,
    );
  const round = new JointRound(ctx, scope);
  round.words(PAIR_A, L, sum(0, 1), u.c);
  round.words(PAIR_B, L, sum(2, 3), v.c);
  await round.run();
  return [u, v];
}

/** Plane j (a view) of a 64-plane sharing. */
export function planeOf(x: Rep4B, j: number): Plane4 {
  const W = wordsPerPlane(x.n);
  return x.c.map((c) => c.subarray(j * W, (j + 1) * W)) as unknown as Plane4;
}

/** Planes [0, w) of a 64-plane sharing as one stacked plane (views). */
export function lowPlanes(x: Rep4B, w: number): Plane4 {
  const W = wordsPerPlane(x.n);
  return x.c.map((c) => c.subarray(0, w * W)) as unknown as Plane4;
}

/**
 * Generate and propagate planes of u + v for positions 0..w−1 (one AND round over all of them).
 * u must be a pair-A input (components 0, 1) and v a pair-B input (components 2, 3), as from
 * `pairSplitBits`: the AND then needs only four pairs (1 bit per gate per party, `andCrossWords`).
 */
export async function genProp(
  ctx: Rep4Ctx,
  scope: OpScope,
  u: Rep4B,
  v: Rep4B,
  w: number,
): Promise<{ g: Plane4[]; p: Plane4[] }> {
  const W = wordsPerPlane(u.n);
  const gAll = await andCrossWords(ctx, scope, lowPlanes(u, w), lowPlanes(v, w));
  const g: Plane4[] = [];
  const p: Plane4[] = [];
  for (let j = 0; j < w; j++) {
    g.push(gAll.map((c) => c.subarray(j * W, (j + 1) * W)) as unknown as Plane4);
    p.push(xorPlane4(planeOf(u, j), planeOf(v, j)));
  }
  return { g, p };
}

function checkWidth(width: number): void {
  if (!Number.isInteger(width) || width < 2 || width > 64)
    throw invalidArgument(`comparison width must be an integer in 2..64, got ${width}`);
}

/**
 * The sign bit of x as a one-plane binary sharing (8 rounds on 64 bits). With `width` k < 64 the
 * caller guarantees −2^(k−1) ≤ x < 2^(k−1) (ring units): then x mod 2^k = (u + v) mod 2^k and the sign
 * is bit k−1 of it, u_{k−1} ⊕ v_{k−1} ⊕ (carry out of the low k−1 bits), so the pairs input only k
 * planes and the circuit runs on k−1 positions: bytes and work scale with k, and the carry tree has
 * ⌈log2(k−1)⌉ levels (5 for k ≤ 33: one round less). Same messages, fewer of them: the security
 * argument is the 64-bit one. Outside the bound the bit is that of x mod 2^k (wrong, not leaking).
 */
export async function msbBinary(ctx: Rep4Ctx, scope: OpScope, x: Rep4A, width = 64): Promise<Rep4B> {
  checkWidth(width);
  const n = x.c[0].length;
  const W = wordsPerPlane(n);
  const [u, v] = await pairSplitBits(ctx, scope.child('split'), x, width);
  const { g, p } = await genProp(ctx, scope.child('gen'), u, v, width - 1);
  const [carry] = await carryOuts(rep4Bits(ctx), scope.child('tree'), W, [{ g, p }]);
  const msb = xorPlane4(xorPlane4(planeOf(u, width - 1), planeOf(v, width - 1)), carry!);
  return { n, w: 1, c: msb };
}

/** [x < 0] as an arithmetic 0/1 sharing; `width` as for `msbBinary` (default 64: no bound needed). */
export async function ltz(
  ctx: Rep4Ctx,
  scope: OpScope,
  x: Rep4A,
  da: DaBitSource4 = null,
  width = 64,
): Promise<Rep4A> {
  checkWidth(width);
  const bits = da ? da(x.c[0].length) : null; // reserved now, awaited after the circuit
  bits?.catch(() => {}); // if the circuit fails first, its failure is the one reported
  const bit = await msbBinary(ctx, scope.child('msb'), x, width);
  return bits
    ? bitInjectDa(ctx, scope.child('inj'), bit, await bits)
    : bitInject(ctx, scope.child('inj'), bit);
}

export function lt(
  ctx: Rep4Ctx,
  scope: OpScope,
  x: Rep4A,
  y: Rep4A,
  da: DaBitSource4 = null,
): Promise<Rep4A> {
  return ltz(ctx, scope, subA(x, y), da);
}

export async function eq(
  ctx: Rep4Ctx,
  scope: OpScope,
  x: Rep4A,
  y: Rep4A,
  da: DaBitSource4 = null,
): Promise<Rep4A> {
  const n = x.c[0].length;
  const d = subA(x, y);
  const both = await ltz(ctx, scope, concatA([d, negA(d)]), da);
  const s = subA(sliceA(both, 0, n), negA(sliceA(both, n, 2 * n)));
  return addScalarA(ctx.me, negA(s), 1n);
}

export async function drelu(
  ctx: Rep4Ctx,
  scope: OpScope,
  x: Rep4A,
  da: DaBitSource4 = null,
  width = 64,
): Promise<Rep4A> {
  const l = await ltz(ctx, scope, x, da, width);
  return addScalarA(ctx.me, negA(l), 1n);
}

export async function relu(
  ctx: Rep4Ctx,
  scope: OpScope,
  x: Rep4A,
  da: DaBitSource4 = null,
  width = 64,
): Promise<{ y: Rep4A; d: Rep4A }> {
  const d = await drelu(ctx, scope.child('d'), x, da, width);
  const y = await mulA(ctx, scope.child('mul'), x, d);
  return { y, d };
}
