/**
 * Multiplication, matrix product and AND for four-party replicated sharing [DEK21 §3, Π_Mult].
 *
 * x·y = Σ_{j,k} x_j·y_k. A cross term x_c·y_d (c ≠ d) is known to exactly the pair {a, b} that holds
 * both components, i.e. the complement of {c, d}; a square x_c·y_c is known to three parties and is
 * given to the pair {c+2, c+3} (whose complement is {c, c+1}). So x·y = Σ over the six pairs of a
 * value v_ab that both members know, and one joint input per pair (inp.ts) reshares it: each pair's
 * vector is split in halves, one per member, so every party sends and receives 1.5 elements per
 * product. Redundancy for the malicious checks: every message's value is also known to the other pair
 * member (its voucher).
 * Security: semi-honest, one corrupt party. Rounds: 1. Bytes: 12 per product per party (1.5 elements).
 *
 * Matrix products compute each pair value as matrices (two ring matmuls per pair, six per party), so
 * communication is 1.5 elements per output entry, independent of the inner dimension.
 * AND of bit-sliced binary shares is the same protocol over GF(2): 1.5 bits per gate per party.
 */
import { matmul as ringMatmul, matmulAdd } from '../../math/kernels.js';
import type { OpScope } from '../channel.js';
import type { BitAlgebra } from '../rep3/adder.js';
import { invalidArgument } from '../../errors.js';
import { slotOf, zerosA, type Rep4A, type Slots } from '../../sharing/replicated/rep4.js';
import type { Rep4Ctx } from './context.js';
import {
  COMPLEMENT,
  JointRound,
  PAIRS,
  PAIR_A,
  PAIR_B,
  pairSumA,
  type MaskedFill,
  type MaskedWordsFill,
} from './inp.js';

const ALL_PAIRS = [0, 1, 2, 3, 4, 5] as const;

/**
 * The components (c, d) whose cross terms pair p knows, ordered so that the square term the pair
 * also takes (if any) is on c.
 */
export function pairTerms(p: number): { c: number; d: number; square: boolean } {
  const [g, h] = COMPLEMENT[p]!;
  if (h === g + 1) return { c: g, d: h, square: true }; // complement {g, g+1}: takes x_g·y_g
  if (g === 0 && h === 3) return { c: 3, d: 0, square: true }; // complement {3, 0}: takes x_3·y_3
  return { c: g, d: h, square: false };
}

/** The pairs this party belongs to. */
export function myPairs(me: number): number[] {
  return ALL_PAIRS.filter((p) => PAIRS[p]!.includes(me));
}

/** Pair p's share v_p of x⊙y (this party must belong to p). */
export function mulPairValue(me: number, x: Rep4A, y: Rep4A, p: number): BigUint64Array {
  const n = x.c[0].length;
  if (y.c[0].length !== n) throw invalidArgument(`mul length mismatch: ${n} vs ${y.c[0].length}`);
  const { c, d, square } = pairTerms(p);
  const xc = x.c[slotOf(me, c)]!;
  const xd = x.c[slotOf(me, d)]!;
  const yc = y.c[slotOf(me, c)]!;
  const yd = y.c[slotOf(me, d)]!;
  const v = new BigUint64Array(n);
  if (square) for (let i = 0; i < n; i++) v[i] = xc[i]! * (yd[i]! + yc[i]!) + xd[i]! * yc[i]!;
  else for (let i = 0; i < n; i++) v[i] = xc[i]! * yd[i]! + xd[i]! * yc[i]!;
  return v;
}

/** Pair p's share of X·Y (X m×k, Y k×n). */
export function matmulPairValue(
  me: number,
  x: Rep4A,
  y: Rep4A,
  m: number,
  k: number,
  n: number,
  p: number,
): BigUint64Array {
  const { c, d, square } = pairTerms(p);
  const xc = x.c[slotOf(me, c)]!;
  const xd = x.c[slotOf(me, d)]!;
  const yc = y.c[slotOf(me, c)]!;
  const yd = y.c[slotOf(me, d)]!;
  let right = yd;
  if (square) {
    right = new BigUint64Array(yd.length);
    for (let i = 0; i < right.length; i++) right[i] = yd[i]! + yc[i]!;
  }
  const v = ringMatmul(xc, right, m, k, n);
  return matmulAdd(xd, yc, m, k, n, v);
}

export function checkMatmul(x: Rep4A, y: Rep4A, m: number, k: number, n: number): void {
  if (x.c[0].length !== m * k || y.c[0].length !== k * n)
    throw invalidArgument(
      `matmul shapes: X has ${x.c[0].length} elements (want ${m}x${k}), Y has ${y.c[0].length} (want ${k}x${n})`,
    );
}

/**
 * `JointRound.ringFill` for pair p's share of x⊙y: the product terms are computed inside the masking
 * pass, so no pair value is materialised.
 */
export function mulPairFill(me: number, x: Rep4A, y: Rep4A, p: number): MaskedFill {
  const { c, d, square } = pairTerms(p);
  const xc = x.c[slotOf(me, c)]!;
  const xd = x.c[slotOf(me, d)]!;
  const yc = y.c[slotOf(me, c)]!;
  const yd = y.c[slotOf(me, d)]!;
  return square
    ? (lo, len, r, oq, oo) => fillSquare(lo, len, r, oq, oo, xc, xd, yc, yd)
    : (lo, len, r, oq, oo) => fillCross(lo, len, r, oq, oo, xc, xd, yc, yd);
}

// The loops take every array as a parameter (see inp.ts: closures over const locals are not lowered).
function fillSquare(
  lo: number,
  len: number,
  r: BigUint64Array,
  oq: BigUint64Array,
  oo: BigUint64Array,
  xc: BigUint64Array,
  xd: BigUint64Array,
  yc: BigUint64Array,
  yd: BigUint64Array,
): void {
  for (let i = 0; i < len; i++) {
    oq[lo + i] = oq[lo + i]! + r[i]!;
    r[i] = xc[lo + i]! * (yd[lo + i]! + yc[lo + i]!) + xd[lo + i]! * yc[lo + i]! - r[i]!;
    oo[lo + i] = oo[lo + i]! + r[i]!;
  }
}

function fillCross(
  lo: number,
  len: number,
  r: BigUint64Array,
  oq: BigUint64Array,
  oo: BigUint64Array,
  xc: BigUint64Array,
  xd: BigUint64Array,
  yc: BigUint64Array,
  yd: BigUint64Array,
): void {
  for (let i = 0; i < len; i++) {
    oq[lo + i] = oq[lo + i]! + r[i]!;
    r[i] = xc[lo + i]! * yd[lo + i]! + xd[lo + i]! * yc[lo + i]! - r[i]!;
    oo[lo + i] = oo[lo + i]! + r[i]!;
  }
}

const notMember: MaskedFill = () => {
  throw invalidArgument('not a member of this pair');
};

/** Element-wise product of secret vectors (no truncation). */
export async function mulA(ctx: Rep4Ctx, scope: OpScope, x: Rep4A, y: Rep4A): Promise<Rep4A> {
  const n = x.c[0].length;
  if (y.c[0].length !== n) throw invalidArgument(`mul length mismatch: ${n} vs ${y.c[0].length}`);
  const out = zerosA(n);
  const round = new JointRound(ctx, scope);
  for (const p of ALL_PAIRS)
    round.ringFill(p, n, PAIRS[p]!.includes(ctx.me) ? mulPairFill(ctx.me, x, y, p) : notMember, out.c);
  await round.run();
  return out;
}

/**
 * The pairs whose share of x·y can be non-zero when x has only components 0 and 1 (a joint input of
 * pair A = {2, 3}) and y only components 2 and 3 (pair B = {0, 1}): a term x_c·y_d is known to the
 * complement of {c, d}, which is never {2, 3} or {0, 1} here (every other pair's value is 0).
 */
const CROSS_PAIRS = ALL_PAIRS.filter((p) => p !== PAIR_A && p !== PAIR_B);

/**
 * x·y for x a pair-A input (components 0, 1) and y a pair-B input (components 2, 3), e.g. the two
 * halves of a bit injection: the same protocol as `mulA` without the two pairs whose values are 0, so
 * 1 element per product per party instead of 1.5 (each party is in two of the four active pairs). The
 * messages left out would carry 0 masked by fresh randomness; every remaining message is unchanged, so
 * each party's view stays simulatable; in rep4 a party holds 3 of 4 components, so any sharing of the
 * result is as good as a re-randomised one when opened (the missing component is fixed by the value).
 */
export async function mulCrossA(ctx: Rep4Ctx, scope: OpScope, x: Rep4A, y: Rep4A): Promise<Rep4A> {
  const n = x.c[0].length;
  if (y.c[0].length !== n) throw invalidArgument(`mul length mismatch: ${n} vs ${y.c[0].length}`);
  const me = ctx.me;
  const out = zerosA(n);
  const round = new JointRound(ctx, scope);
  for (const p of CROSS_PAIRS) {
    if (!PAIRS[p]!.includes(me)) round.ringFill(p, n, notMember, out.c);
    else {
      const [a, b] = crossTerm(p);
      const xa = x.c[slotOf(me, a)]!;
      const yb = y.c[slotOf(me, b)]!;
      round.ringFill(p, n, (lo, len, r, oq, oo) => fillOne(lo, len, r, oq, oo, xa, yb), out.c);
    }
  }
  await round.run();
  return out;
}

/**
 * The one term x_a·y_b (a ∈ {0, 1}, b ∈ {2, 3}) of cross pair p's share when x has only components
 * 0, 1 and y only 2, 3: of the terms `pairTerms` gives p (x_c·y_d + x_d·y_c, plus x_c·y_c for a
 * square), every other one has a zero factor. Same value, two arrays and a product fewer to read.
 */
function crossTerm(p: number): [number, number] {
  const { c, d } = pairTerms(p);
  return c < 2 ? [c, d] : [d, c];
}

function fillOne(
  lo: number,
  len: number,
  r: BigUint64Array,
  oq: BigUint64Array,
  oo: BigUint64Array,
  xa: BigUint64Array,
  yb: BigUint64Array,
): void {
  for (let i = 0; i < len; i++) {
    oq[lo + i] = oq[lo + i]! + r[i]!;
    r[i] = xa[lo + i]! * yb[lo + i]! - r[i]!;
    oo[lo + i] = oo[lo + i]! + r[i]!;
  }
}

function andFillOne(
  lo: number,
  len: number,
  r: Uint32Array,
  oq: Uint32Array,
  oo: Uint32Array,
  xa: Uint32Array,
  yb: Uint32Array,
): void {
  for (let i = 0; i < len; i++) {
    const j = lo + i;
    const t = r[i]!;
    oq[j]! ^= t;
    const m = (xa[j]! & yb[j]!) ^ t;
    r[i] = m;
    oo[j]! ^= m;
  }
}

/** `andWords` for x a pair-A input and y a pair-B input (see `mulCrossA`): 1 bit per gate per party. */
export function andCrossWords(
  ctx: Rep4Ctx,
  scope: OpScope,
  x: Slots<Uint32Array>,
  y: Slots<Uint32Array>,
): Promise<Slots<Uint32Array>> {
  return andRound(ctx, scope, x, y, CROSS_PAIRS, true);
}

/** Secret matrix product C = X·Y over the ring (no truncation). */
export function matmulA(
  ctx: Rep4Ctx,
  scope: OpScope,
  x: Rep4A,
  y: Rep4A,
  m: number,
  k: number,
  n: number,
): Promise<Rep4A> {
  checkMatmul(x, y, m, k, n);
  return pairSumA(ctx, scope, m * n, ALL_PAIRS, (p) => matmulPairValue(ctx.me, x, y, m, k, n, p));
}

/**
 * `JointRound.wordsFill` for pair p's share of x ∧ y: the AND terms are computed inside the masking
 * pass, so no pair value is materialised.
 */
function andPairFill(me: number, x: Slots<Uint32Array>, y: Slots<Uint32Array>, p: number): MaskedWordsFill {
  const { c, d, square } = pairTerms(p);
  const xc = x[slotOf(me, c)]!;
  const xd = x[slotOf(me, d)]!;
  const yc = y[slotOf(me, c)]!;
  const yd = y[slotOf(me, d)]!;
  // square pair: x_c∧(y_c ⊕ y_d) ⊕ x_d∧y_c; cross pair: x_c∧y_d ⊕ x_d∧y_c (y_c masked out of the first)
  const sq = square ? 0xffffffff : 0;
  return (lo, len, r, oq, oo) => andFill(lo, len, r, oq, oo, xc, xd, yc, yd, sq);
}

function andFill(
  lo: number,
  len: number,
  r: Uint32Array,
  oq: Uint32Array,
  oo: Uint32Array,
  xc: Uint32Array,
  xd: Uint32Array,
  yc: Uint32Array,
  yd: Uint32Array,
  sq: number,
): void {
  for (let i = 0; i < len; i++) {
    const j = lo + i;
    const t = r[i]!;
    oq[j]! ^= t;
    const m = (xc[j]! & (yd[j]! ^ (yc[j]! & sq))) ^ (xd[j]! & yc[j]!) ^ t;
    r[i] = m;
    oo[j]! ^= m;
  }
}

const notMemberWords: MaskedWordsFill = () => {
  throw invalidArgument('not a member of this pair');
};

/**
 * One round: x ∧ y as the sum of the given pairs' shares (the others' must be 0); `cross`: x has only
 * components 0, 1 and y only 2, 3 (see `crossTerm`).
 */
async function andRound(
  ctx: Rep4Ctx,
  scope: OpScope,
  x: Slots<Uint32Array>,
  y: Slots<Uint32Array>,
  pairs: readonly number[],
  cross = false,
): Promise<Slots<Uint32Array>> {
  const L = x[0].length;
  if (y[0].length !== L || x[1].length !== L || x[2].length !== L || y[1].length !== L || y[2].length !== L)
    throw invalidArgument(`AND length mismatch: ${L} vs ${y[0].length}`);
  const out: Slots<Uint32Array> = [new Uint32Array(L), new Uint32Array(L), new Uint32Array(L)];
  const round = new JointRound(ctx, scope);
  const me = ctx.me;
  for (const p of pairs) {
    if (!PAIRS[p]!.includes(me)) round.wordsFill(p, L, notMemberWords, out);
    else if (cross) {
      const [a, b] = crossTerm(p);
      const xa = x[slotOf(me, a)]!;
      const yb = y[slotOf(me, b)]!;
      round.wordsFill(p, L, (lo, len, r, oq, oo) => andFillOne(lo, len, r, oq, oo, xa, yb), out);
    } else round.wordsFill(p, L, andPairFill(me, x, y, p), out);
  }
  await round.run();
  return out;
}

/** Word-wise AND of two binary sharings given as component slots of equal length. */
export function andWords(
  ctx: Rep4Ctx,
  scope: OpScope,
  x: Slots<Uint32Array>,
  y: Slots<Uint32Array>,
): Promise<Slots<Uint32Array>> {
  return andRound(ctx, scope, x, y, ALL_PAIRS);
}

/** A binary plane (or stack of planes) under rep4: the three component slots. */
export type Plane4 = Slots<Uint32Array>;

export function xorPlane4(x: Plane4, y: Plane4): Plane4 {
  return [xorNew(x[0], y[0]), xorNew(x[1], y[1]), xorNew(x[2], y[2])];
}

/** a ⊕ b, a new array (a top-level loop, not a closure: V8 compiles it better). */
function xorNew(a: Uint32Array, b: Uint32Array): Uint32Array {
  const n = a.length;
  const o = new Uint32Array(n);
  for (let i = 0; i < n; i++) o[i] = a[i]! ^ b[i]!;
  return o;
}

/**
 * Scratch for the stacked AND inputs of `rep4Bits`: the masking pass reads them synchronously, before
 * the round's first await (`andRound`), and nothing keeps them, so one set of buffers serves every
 * call, concurrent ones included. Saves allocating (and the GC freeing) six vectors per tree level.
 */
const stackScratch: Uint32Array[] = [];

function stack(ps: Plane4[], k: number, W: number, slot: number): Uint32Array {
  const len = ps.length * W;
  let b = stackScratch[slot];
  if (!b || b.length < len) stackScratch[slot] = b = new Uint32Array(len);
  const o = b.subarray(0, len);
  for (let i = 0; i < ps.length; i++) o.set(ps[i]![k]!, i * W);
  return o;
}

/** The rep4 instance of rep3's `BitAlgebra`, so the carry circuits in rep3/adder.ts run on rep4 shares. */
export function rep4Bits(ctx: Rep4Ctx): BitAlgebra<Plane4> {
  return {
    async and(scope, W, xs, ys) {
      if (xs.length === 0) return [];
      const X = [0, 1, 2].map((k) => stack(xs, k, W, k)) as unknown as Plane4;
      const Y = [0, 1, 2].map((k) => stack(ys, k, W, 3 + k)) as unknown as Plane4;
      const z = await andWords(ctx, scope, X, Y); // X, Y are read before its first await
      return xs.map((_, i) => [0, 1, 2].map((k) => z[k]!.subarray(i * W, (i + 1) * W)) as unknown as Plane4);
    },
    xor: xorPlane4,
  };
}
