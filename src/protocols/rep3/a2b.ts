/**
 * Arithmetic → binary conversion for 2-of-3 replicated shares [ABY3 §5.3].
 *
 * x = x_0 + x_1 + x_2 where component x_j is known to two parties, so (x_0, x_1, x_2) is already
 * a binary replicated sharing of u = x_0 ⊕ x_1 ⊕ x_2. A carry-save step gives x = u + 2v with
 * v = maj(x_0, x_1, x_2) = x_0x_1 ⊕ x_1x_2 ⊕ x_2x_0, where party i computes x_i∧x_{i+1} locally
 * (one re-sharing round, 63 bits per element). A binary adder then finishes:
 * - `a2b`: all 64 bits (Sklansky prefix, 1 + 1 + 6 rounds);
 * - `msbBinary`: only the sign bit, via the carry-out tree (1 + 1 + 6 rounds, ~250 bits/element).
 * Security: semi-honest, honest majority.
 */
import { toPlanes, wordsPerPlane } from '../../math/bits.js';
import type { OpScope } from '../channel.js';
import type { Rep3A, Rep3B } from '../../sharing/replicated/rep3.js';
import { reshareB } from './and.js';
import { andAt, andPlanes, carryOutsFlat, prefixCarries, xorPlanes, type Plane } from './adder.js';
import type { Rep3Ctx } from './context.js';
import { invalidArgument } from '../../errors.js';

function planesOf(x: Uint32Array, w: number, W: number): Uint32Array[] {
  const out: Uint32Array[] = [];
  for (let j = 0; j < w; j++) out.push(x.subarray(j * W, (j + 1) * W));
  return out;
}

function xorAt(z: Uint32Array, o: number, W: number, x: Uint32Array, y: Uint32Array): void {
  for (let i = 0; i < W; i++) z[o + i] = x[i]! ^ y[i]!;
}

/** Carry-save step: binary planes of u (k) and of v (planes 0..k−2), for the low k bits of x. */
async function carrySave(
  ctx: Rep3Ctx,
  scope: OpScope,
  x: Rep3A,
  k = 64,
): Promise<{ W: number; u: Plane[]; v: Plane[] }> {
  const n = x.a.length;
  const W = wordsPerPlane(n);
  const pa = toPlanes(x.a, k);
  const pb = toPlanes(x.b, k);
  // local 3-out-of-3 term of v on planes 0..k−2: x_me ∧ x_{me+1}
  const t = new Uint32Array((k - 1) * W);
  for (let i = 0; i < t.length; i++) t[i] = pa[i]! & pb[i]!;
  const v = await reshareB(ctx, scope.child('csa'), t);
  const ua = planesOf(pa, k, W);
  const ub = planesOf(pb, k, W);
  return {
    W,
    u: ua.map((a, j) => ({ a, b: ub[j]! })),
    v: planesOf(v.a, k - 1, W).map((a, j) => ({ a, b: v.b.subarray(j * W, (j + 1) * W) })),
  };
}

/** Generate/propagate planes of u + (v << 1) for positions 0..u.length−1 (v has one plane less). */
async function genProp(
  ctx: Rep3Ctx,
  scope: OpScope,
  W: number,
  u: Plane[],
  v: Plane[],
): Promise<{ g: Plane[]; p: Plane[] }> {
  // position 0: g = 0, p = u_0; position j ≥ 1: g = u_j ∧ v_{j-1}, p = u_j ⊕ v_{j-1}
  const xs = u.slice(1);
  const ys = v.slice(0, xs.length);
  const gs = await andPlanes(ctx, scope.child('gen'), W, xs, ys);
  const zero: Plane = { a: new Uint32Array(W), b: new Uint32Array(W) };
  const g: Plane[] = [zero, ...gs];
  const p: Plane[] = [u[0]!, ...xorPlanes(W, xs, ys)];
  return { g, p };
}

/** Full bit decomposition: binary replicated sharing (64 planes) of x. */
export async function a2b(ctx: Rep3Ctx, scope: OpScope, x: Rep3A): Promise<Rep3B> {
  const n = x.a.length;
  const { W, u, v } = await carrySave(ctx, scope, x);
  const { g, p } = await genProp(ctx, scope, W, u, v);
  const G = await prefixCarries(ctx, scope.child('pfx'), W, g.slice(0, 63), p.slice(0, 63));
  const a = new Uint32Array(64 * W);
  const b = new Uint32Array(64 * W);
  a.set(p[0]!.a, 0);
  b.set(p[0]!.b, 0);
  for (let j = 1; j < 64; j++) {
    const pj = p[j]!;
    const gj = G[j - 1]!;
    xorAt(a, j * W, W, pj.a, gj.a);
    xorAt(b, j * W, W, pj.b, gj.b);
  }
  return { n, w: 64, a, b };
}

/**
 * The sign bit of x as a one-plane binary sharing. With `bits` = k < 64 the caller guarantees
 * |x| < 2^(k−1) (as a signed ring value): bits k−1..63 of x are then all equal to the sign, so bit
 * k−1 of the k-bit sum x_0 + x_1 + x_2 mod 2^k is the sign. The carry tree then spans k−2 positions
 * (⌈log2(k−2)⌉ rounds: 5 for k ≤ 34, 6 for k = 64) and every AND round moves k/64 of the bytes.
 * Outside that range the result is wrong: only call it with a bound proved beforehand (RangeTracker).
 */
export async function msbBinary(ctx: Rep3Ctx, scope: OpScope, x: Rep3A, bits = 64): Promise<Rep3B> {
  if (!Number.isInteger(bits) || bits < 4 || bits > 64)
    throw invalidArgument(`msbBinary: bits must be an integer in [4, 64], got ${bits}`);
  // Flat planes throughout (no object per plane); the AND gates, their order in each message and the
  // op ids are those of carrySave → genProp → carryOut, so the messages are unchanged.
  const k = bits;
  const n = x.a.length;
  const W = wordsPerPlane(n);
  const ua = toPlanes(x.a, k);
  const ub = toPlanes(x.b, k);
  // carry-save: v = maj(x_0, x_1, x_2) on planes 0..k−2, local term x_me ∧ x_{me+1}
  const t = new Uint32Array((k - 1) * W);
  andWordsInto(t, ua, ub);
  const v = await reshareB(ctx, scope.child('csa'), t);
  // positions 1..k−2: g_j = u_j ∧ v_{j−1}, p_j = u_j ⊕ v_{j−1} (position 0 generates nothing)
  const m = k - 2;
  const L = m * W;
  const z = new Uint32Array(L);
  andAt(z, 0, L, ua, ub, W, v.a, v.b, 0);
  const g = await reshareB(ctx, scope.child('gen'), z);
  const pa = new Uint32Array(L);
  const pb = new Uint32Array(L);
  xorFlat(pa, ua, W, v.a, 0, L);
  xorFlat(pb, ub, W, v.b, 0, L);
  // carry into bit k−1 = carry out of positions 1..k−2
  const [c] = await carryOutsFlat(ctx, scope.child('tree'), W, [{ cnt: m, ga: g.a, gb: g.b, pa, pb }]);
  // msb = u_{k−1} ⊕ v_{k−2} ⊕ c
  const a = new Uint32Array(W);
  const b = new Uint32Array(W);
  const uo = (k - 1) * W;
  const vo = (k - 2) * W;
  for (let i = 0; i < W; i++) {
    a[i] = ua[uo + i]! ^ v.a[vo + i]! ^ c!.a[i]!;
    b[i] = ub[uo + i]! ^ v.b[vo + i]! ^ c!.b[i]!;
  }
  return { n, w: 1, a, b };
}

function andWordsInto(t: Uint32Array, x: Uint32Array, y: Uint32Array): void {
  const L = t.length;
  for (let i = 0; i < L; i++) t[i] = x[i]! & y[i]!;
}

function xorFlat(z: Uint32Array, x: Uint32Array, xo: number, y: Uint32Array, yo: number, L: number): void {
  for (let i = 0; i < L; i++) z[i] = x[xo + i]! ^ y[yo + i]!;
}
