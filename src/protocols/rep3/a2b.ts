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
import { andPlanes, carryOut, prefixCarries, xorPlane, type Plane } from './adder.js';
import type { Rep3Ctx } from './context.js';

function planesOf(x: Uint32Array, w: number, W: number): Uint32Array[] {
  const out: Uint32Array[] = [];
  for (let j = 0; j < w; j++) out.push(x.subarray(j * W, (j + 1) * W));
  return out;
}

/** Carry-save step: binary planes of u (64) and of v (planes 0..62). */
async function carrySave(
  ctx: Rep3Ctx,
  scope: OpScope,
  x: Rep3A,
): Promise<{ W: number; u: Plane[]; v: Plane[] }> {
  const n = x.a.length;
  const W = wordsPerPlane(n);
  const pa = toPlanes(x.a);
  const pb = toPlanes(x.b);
  // local 3-out-of-3 term of v on planes 0..62: x_me ∧ x_{me+1}
  const t = new Uint32Array(63 * W);
  for (let i = 0; i < t.length; i++) t[i] = pa[i]! & pb[i]!;
  const v = await reshareB(ctx, scope.child('csa'), t);
  const ua = planesOf(pa, 64, W);
  const ub = planesOf(pb, 64, W);
  return {
    W,
    u: ua.map((a, j) => ({ a, b: ub[j]! })),
    v: planesOf(v.a, 63, W).map((a, j) => ({ a, b: v.b.subarray(j * W, (j + 1) * W) })),
  };
}

/** Generate/propagate planes of u + (v << 1) for positions 0..63. */
async function genProp(
  ctx: Rep3Ctx,
  scope: OpScope,
  W: number,
  u: Plane[],
  v: Plane[],
): Promise<{ g: Plane[]; p: Plane[] }> {
  // position 0: g = 0, p = u_0; position j ≥ 1: g = u_j ∧ v_{j-1}, p = u_j ⊕ v_{j-1}
  const xs = u.slice(1, 64);
  const ys = v.slice(0, 63);
  const gs = await andPlanes(ctx, scope.child('gen'), W, xs, ys);
  const zero: Plane = { a: new Uint32Array(W), b: new Uint32Array(W) };
  const g: Plane[] = [zero, ...gs];
  const p: Plane[] = [u[0]!, ...xs.map((x, k) => xorPlane(x, ys[k]!))];
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
    const s = xorPlane(p[j]!, G[j - 1]!);
    a.set(s.a, j * W);
    b.set(s.b, j * W);
  }
  return { n, w: 64, a, b };
}

/** The sign bit of x as a one-plane binary sharing. */
export async function msbBinary(ctx: Rep3Ctx, scope: OpScope, x: Rep3A): Promise<Rep3B> {
  const n = x.a.length;
  const { W, u, v } = await carrySave(ctx, scope, x);
  const { g, p } = await genProp(ctx, scope, W, u, v);
  // carry into bit 63 = carry out of positions 1..62 (position 0 generates nothing)
  const c = await carryOut(ctx, scope.child('tree'), W, g.slice(1, 63), p.slice(1, 63));
  const msb = xorPlane(xorPlane(u[63]!, v[62]!), c);
  return { n, w: 1, a: msb.a, b: msb.b };
}
