/**
 * Sign hints: the sign of a freshly truncated value, read without an arithmetic→binary conversion.
 *
 * After the probabilistic truncation of trunc.ts, y is a public value minus a preprocessed one:
 *   y = P − s,  P = (c ≫ f) − 2^(62−f)  (c the opened masked value, public to all three parties),
 *   s = ⌊r'/2^f⌋ − coef·m  (coef = ±2^(63−f) by msb(c), m = msb(r), r' = r mod 2^63),
 * see `finishTrunc`. When the truncation triple also carries s's bits as a binary replicated sharing
 * (`TruncTriples.hs`: the 63−f bits of ⌊r'/2^f⌋ and m; bit j ≥ 63−f of s is m, or m ∧ [msb(c) = 0]
 * above bit 63−f), the sign of an affine form v = ±y + t (t public) is the top bit of a
 * public-plus-shared sum:
 *   v = y + t = Q + ¬s + 1  with Q = P + t,   or   v = −y + t = s + Q  with Q = t − P.
 * Adding a public Q to shared bits X needs no AND for the generate/propagate layer (g_j = Q_j ∧ X_j and
 * p_j = Q_j ⊕ X_j are local; the carry-in 1 folds into position 0 as g_0 = Q_0 ∨ X_0), so only the
 * carry-out tree over positions 0..k−2 is interactive: ⌈log2(k−1)⌉ AND rounds (5 for k ≤ 33, 6 for
 * k = 64) and about 2k AND gates per element, against rep3 `msbBinary`'s carry-save round, generate
 * round and tree (2 + ⌈log2(k−2)⌉ rounds, about 4k gates). The two removed layers move to the offline
 * phase: the triple's bits come from a full prefix adder there instead of two carry-out trees
 * (`genTruncTriples` with `hints`).
 *
 * This is the edaBit idea [EGK+20] applied to the truncation mask, so the comparison after a fixed-point
 * product costs only its carry tree (as in MP-SPDZ's comparisons on a masked opened value, and
 * [DEK20]'s LTZ after truncation). Security: nothing new is opened — c is already public from the
 * truncation (its distribution is unchanged: r is still uniform) and the tree is rep3's AND
 * re-sharing [AFLNO16]; semi-honest, honest majority.
 *
 * `width` = k < 64: the caller guarantees |v| < 2^(k−1) as for `msbBinary`; the k-bit sum then has
 * the sign in its top bit.
 *
 * `matmulTrunc` attaches the hint when its triples carry the bits (the session's `matmulFixedBias`,
 * from its pool of hinted triples), to the exact `Rep3A` object it returns (a WeakMap), so any
 * operation that makes a new sharing (an addition, a slice) simply loses it; shares are never mutated
 * in place after a protocol returns them.
 */
import type { OpScope } from '../channel.js';
import type { Rep3A, Rep3B } from '../../sharing/replicated/rep3.js';
import { toPlanes, toPlanesOf, wordsPerPlane } from '../../math/bits.js';
import { addScalar, shrLogical } from '../../math/ring.js';
import { invalidArgument } from '../../errors.js';
import type { StridedB } from './trunc.js';
import { carryOutsFlat, type FlatTree } from './adder.js';
import type { Rep3Ctx } from './context.js';

export interface SignHint {
  /** The opened value of the truncation, c = x + 2^62 + r. */
  readonly c: BigUint64Array;
  readonly f: number;
  /** Planes 0..62−f: ⌊r'/2^f⌋; plane 63−f: m = msb(r). n elements (possibly a strided view). */
  readonly hb: StridedB;
}

const hints = new WeakMap<Rep3A, SignHint>();

export function setSignHint(y: Rep3A, h: SignHint): void {
  if (h.hb.n !== y.a.length || h.hb.w !== 64 - h.f || h.c.length !== y.a.length)
    throw invalidArgument('sign hint does not match its sharing');
  hints.set(y, h);
}

export function signHintOf(y: Rep3A): SignHint | undefined {
  return hints.get(y);
}

/** One affine form of the hinted value: v = (neg ? −y : y) + add (add in ring units, public). */
export interface SignTerm {
  readonly neg: boolean;
  readonly add: bigint;
}

/** The k planes of s for one party's two components: plane j at words [j·stride + off, … + W). */
interface SPlanes {
  readonly a: Uint32Array;
  readonly b: Uint32Array;
  readonly stride: number;
  readonly off: number;
}

/**
 * The k planes of s for this party's two components, from the hint: planes j < 63−f and the m plane
 * 63−f are read in place from hb (strided when hb is a slice of a batch); above the m plane (only
 * when k > 64 − f), m ∧ [msb(c) = 0], so then the k planes are gathered into one buffer.
 */
function sPlanes(h: SignHint, k: number): SPlanes {
  const W = wordsPerPlane(h.hb.n);
  const top = 63 - h.f; // plane of m
  const stride = h.hb.stride ?? W;
  const off = h.hb.off ?? 0;
  if (k <= top + 1) return { a: h.hb.a, b: h.hb.b, stride, off };
  const a = new Uint32Array(k * W);
  const b = new Uint32Array(k * W);
  for (let j = 0; j <= top; j++) {
    const o = j * stride + off;
    a.set(h.hb.a.subarray(o, o + W), j * W);
    b.set(h.hb.b.subarray(o, o + W), j * W);
  }
  // msb(c) plane, inverted: pos = [msb(c) = 0]
  const cTop = toPlanes(h.c, 1, 63);
  const ma = a.subarray(top * W, (top + 1) * W);
  const mb = b.subarray(top * W, (top + 1) * W);
  for (let j = top + 1; j < k; j++) {
    andNotInto(a, j * W, ma, cTop, W);
    andNotInto(b, j * W, mb, cTop, W);
  }
  return { a, b, stride: W, off: 0 };
}

function andNotInto(z: Uint32Array, o: number, x: Uint32Array, y: Uint32Array, W: number): void {
  for (let i = 0; i < W; i++) z[o + i] = x[i]! & ~y[i]!;
}

/**
 * Generate/propagate planes for Q + X with X = s, or ¬s + 1 when `not` (¬ on component 0:
 * party 0's a, party 2's b, applied on the fly), positions 0..k−2 for the tree, and the top position's
 * propagate (plane k−1) for the sum bit. g_j = Q_j ∧ X_j on both components, p_j = Q_j ⊕ X_j (Q on
 * component 0); with a carry-in, g_0 = Q_0 ∨ X_0 = g_0 ⊕ p_0.
 */
function genProp(
  me: number,
  W: number,
  k: number,
  q: Uint32Array,
  s: SPlanes,
  not: boolean,
): { tree: FlatTree; topA: Uint32Array; topB: Uint32Array } {
  const L = (k - 1) * W;
  // component-0 flips: ¬ (all ones) and the public Q for p, per component held
  const flipA = not && me === 0 ? 0xffffffff : 0;
  const flipB = not && me === 2 ? 0xffffffff : 0;
  const ga = new Uint32Array(L);
  const gb = new Uint32Array(L);
  const pa = new Uint32Array(L);
  const pb = new Uint32Array(L);
  for (let j = 0; j < k - 1; j++) {
    const o = j * s.stride + s.off;
    genPropInto(ga, pa, j * W, s.a, o, q, flipA, me === 0, W);
    genPropInto(gb, pb, j * W, s.b, o, q, flipB, me === 2, W);
  }
  if (not) {
    // carry-in 1 at position 0: g_0 ⊕= p_0
    xorPub(ga, pa, 0, W);
    xorPub(gb, pb, 0, W);
  }
  const topA = new Uint32Array(W);
  const topB = new Uint32Array(W);
  const o = (k - 1) * s.stride + s.off;
  topInto(topA, s.a, o, q, L, flipA, me === 0, W);
  topInto(topB, s.b, o, q, L, flipB, me === 2, W);
  return { tree: { cnt: k - 1, ga, gb, pa, pb, owned: true }, topA, topB };
}

/** g = (x ⊕ flip) ∧ q, p = (x ⊕ flip) ⊕ (withQ ? q : 0): W words, at go in g/p/q, at xo in x. */
function genPropInto(
  g: Uint32Array,
  p: Uint32Array,
  go: number,
  x: Uint32Array,
  xo: number,
  q: Uint32Array,
  flip: number,
  withQ: boolean,
  W: number,
): void {
  const qm = withQ ? 0xffffffff : 0;
  for (let i = 0; i < W; i++) {
    const xi = x[xo + i]! ^ flip;
    const qi = q[go + i]!;
    g[go + i] = xi & qi;
    p[go + i] = xi ^ (qi & qm);
  }
}

/** The top position's propagate: x's plane at word offset xo, q's at qo. */
function topInto(
  t: Uint32Array,
  x: Uint32Array,
  xo: number,
  q: Uint32Array,
  qo: number,
  flip: number,
  withQ: boolean,
  W: number,
): void {
  const qm = withQ ? 0xffffffff : 0;
  for (let i = 0; i < W; i++) t[i] = x[xo + i]! ^ flip ^ (q[qo + i]! & qm);
}

/** z[i] ^= y[yo + i] for i < L. */
function xorPub(z: Uint32Array, y: Uint32Array, yo: number, L: number): void {
  for (let i = 0; i < L; i++) z[i]! ^= y[yo + i]!;
}

/**
 * Sign bits [v < 0] of the affine forms `terms` of a hinted value, as one-plane binary sharings (one
 * per term, n elements each): all trees run in lockstep, ⌈log2(k−1)⌉ rounds in all.
 */
export async function msbHinted(
  ctx: Rep3Ctx,
  scope: OpScope,
  h: SignHint,
  terms: readonly SignTerm[],
  width = 64,
): Promise<Rep3B[]> {
  const k = width;
  if (!Number.isInteger(k) || k < 4 || k > 64)
    throw invalidArgument(`msbHinted: width must be an integer in [4, 64], got ${k}`);
  const n = h.hb.n;
  const W = wordsPerPlane(n);
  // P = (c ≫ f) − 2^(62−f); the public addend Q of each form is P + t (v = y + t) or t − P (v = −y + t),
  // written straight into toPlanesOf's reused buffer (no array per term)
  const bias = 1n << BigInt(62 - h.f);
  const s = sPlanes(h, k);
  const parts = terms.map((t) => {
    const q = toPlanesOf(
      n,
      (o) => {
        shrLogical(h.c, h.f, o);
        if (t.neg) rsubScalarInto(o, t.add + bias);
        else addScalar(o, t.add - bias, o);
      },
      k,
    );
    return genProp(ctx.me, W, k, q, s, !t.neg);
  });
  const carries = await carryOutsFlat(
    ctx,
    scope,
    W,
    parts.map((p) => p.tree),
  );
  return parts.map((p, t) => {
    const c = carries[t]!;
    const a = new Uint32Array(W);
    const b = new Uint32Array(W);
    for (let i = 0; i < W; i++) {
      a[i] = p.topA[i]! ^ c.a[i]!;
      b[i] = p.topB[i]! ^ c.b[i]!;
    }
    return { n, w: 1, a, b };
  });
}

/** o = k − o element-wise, in place. */
function rsubScalarInto(o: BigUint64Array, k: bigint): void {
  const n = o.length;
  const c = BigInt.asUintN(64, k);
  for (let i = 0; i < n; i++) o[i] = c - o[i]!;
}

/** One-plane bit vectors (n bits each) concatenated into one plane of n·T bits. */
export function concatBits(parts: readonly Uint32Array[], n: number): Uint32Array {
  const T = parts.length;
  const out = new Uint32Array(wordsPerPlane(n * T));
  const W = wordsPerPlane(n);
  const lastMask = n & 31 ? ((1 << (n & 31)) - 1) >>> 0 : 0xffffffff;
  for (let t = 0; t < T; t++) {
    const o = t * n;
    const wo = o >>> 5;
    const sh = o & 31;
    const p = parts[t]!;
    for (let w = 0; w < W; w++) {
      const v = w === W - 1 ? p[w]! & lastMask : p[w]!;
      out[wo + w]! |= v << sh;
      if (sh !== 0 && wo + w + 1 < out.length) out[wo + w + 1]! |= v >>> (32 - sh);
    }
  }
  return out;
}
