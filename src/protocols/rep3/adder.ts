/**
 * Binary adders on bit-sliced replicated shares, for arithmetic↔binary conversion [ABY3 §5.3].
 *
 * - `prefixCarries`: Sklansky parallel-prefix carry network: ⌈log2 w⌉ rounds, about w/2 (G,P)
 *   combinations per round, 2 AND gates each (the last round skips P).
 * - `carryOut`: only the carry out of the top position, by a binary tree of (G,P) combinations:
 *   ⌈log2 w⌉ rounds, about 2w AND gates in all (what less-than-zero needs). `carryOuts` runs several
 *   trees in lockstep over any scheme's `BitAlgebra` (rep4 uses it too).
 * - `carryOutsFlat`: the same trees (same gates, message layout and op ids) on flat plane buffers,
 *   without one object per plane; rep3's msbBinary and truncation triples use it.
 * Every round is a single batched AND over all elements and positions.
 * Security: semi-honest, honest majority (inherits from `andB`).
 */
import type { OpScope } from '../channel.js';
import { reshareB } from './and.js';
import { invalidArgument } from '../../errors.js';
import type { Rep3Ctx } from './context.js';

/** Replicated binary planes: `a` and `b` each hold `count` planes of W words. */
export interface Planes {
  readonly W: number;
  readonly a: Uint32Array[];
  readonly b: Uint32Array[];
}

/**
 * One batched AND of plane pairs (xs[k] ∧ ys[k]); returns the result planes (views of one buffer).
 * The local products are written straight into the message buffer (no gathering copies).
 */
export async function andPlanes(
  ctx: Rep3Ctx,
  scope: OpScope,
  W: number,
  xs: { a: Uint32Array; b: Uint32Array }[],
  ys: { a: Uint32Array; b: Uint32Array }[],
  extra?: Uint32Array[],
): Promise<{ a: Uint32Array; b: Uint32Array }[]> {
  const K = xs.length;
  if (K === 0) return [];
  if (ys.length !== K) throw invalidArgument(`AND plane count mismatch: ${K} vs ${ys.length}`);
  const z = new Uint32Array(K * W);
  for (let k = 0; k < K; k++) {
    const x = xs[k]!;
    const y = ys[k]!;
    andPlaneInto(z, k * W, W, x.a, x.b, y.a, y.b);
  }
  if (extra) for (let k = 0; k < K; k++) xorInto(z, k * W, W, extra[k]!);
  const r = await reshareB(ctx, scope, z);
  return splitPlanes(r.a, r.b, K, W);
}

/** z[o..o+W) = x_a∧(y_a⊕y_b) ⊕ x_b∧y_a (the local 3-out-of-3 AND share). */
function andPlaneInto(
  z: Uint32Array,
  o: number,
  W: number,
  xa: Uint32Array,
  xb: Uint32Array,
  ya: Uint32Array,
  yb: Uint32Array,
): void {
  if (xa.length < W || xb.length < W || ya.length < W || yb.length < W)
    throw invalidArgument(`AND plane shorter than ${W} words`);
  for (let i = 0; i < W; i++) {
    const yai = ya[i]!;
    z[o + i] = (xa[i]! & (yai ^ yb[i]!)) ^ (xb[i]! & yai);
  }
}

function xorInto(z: Uint32Array, o: number, W: number, e: Uint32Array): void {
  for (let i = 0; i < W; i++) z[o + i]! ^= e[i]!;
}

/** K planes of W words as views of two flat buffers. */
function splitPlanes(a: Uint32Array, b: Uint32Array, K: number, W: number): Plane[] {
  const out: Plane[] = new Array<Plane>(K);
  for (let k = 0; k < K; k++)
    out[k] = { a: a.subarray(k * W, (k + 1) * W), b: b.subarray(k * W, (k + 1) * W) };
  return out;
}

function xorPlane(
  x: { a: Uint32Array; b: Uint32Array },
  y: { a: Uint32Array; b: Uint32Array },
): { a: Uint32Array; b: Uint32Array } {
  const a = new Uint32Array(x.a.length);
  const b = new Uint32Array(x.b.length);
  for (let i = 0; i < a.length; i++) {
    a[i] = x.a[i]! ^ y.a[i]!;
    b[i] = x.b[i]! ^ y.b[i]!;
  }
  return { a, b };
}

/** xs[k] ⊕ ys[k] for every k, planes of W words, written into two fresh flat buffers (views returned). */
export function xorPlanes(W: number, xs: readonly Plane[], ys: readonly Plane[]): Plane[] {
  const K = xs.length;
  const a = new Uint32Array(K * W);
  const b = new Uint32Array(K * W);
  for (let k = 0; k < K; k++) {
    const x = xs[k]!;
    const y = ys[k]!;
    xor2Into(a, k * W, W, x.a, y.a);
    xor2Into(b, k * W, W, x.b, y.b);
  }
  return splitPlanes(a, b, K, W);
}

function xor2Into(z: Uint32Array, o: number, W: number, x: Uint32Array, y: Uint32Array): void {
  for (let i = 0; i < W; i++) z[o + i] = x[i]! ^ y[i]!;
}

export type Plane = { a: Uint32Array; b: Uint32Array };

/**
 * Sklansky prefix: given generate/propagate planes g[j], p[j] for j = 0..w-1, returns G[j], the carry
 * out of position j (carry into j+1), for every j.
 */
export async function prefixCarries(
  ctx: Rep3Ctx,
  scope: OpScope,
  W: number,
  g: Plane[],
  p: Plane[],
): Promise<Plane[]> {
  const w = g.length;
  const G = g.slice();
  const P = p.slice();
  const levels = Math.ceil(Math.log2(Math.max(w, 2)));
  for (let l = 0; l < levels; l++) {
    const last = l === levels - 1;
    const js: number[] = [];
    const ts: number[] = [];
    for (let j = 0; j < w; j++)
      if ((j >> l) & 1) {
        js.push(j);
        ts.push(((j >> l) << l) - 1);
      }
    const xs: Plane[] = js.map((j) => P[j]!);
    const ys: Plane[] = ts.map((t) => G[t]!);
    if (!last) {
      for (let k = 0; k < js.length; k++) {
        xs.push(P[js[k]!]!);
        ys.push(P[ts[k]!]!);
      }
    }
    const r = await andPlanes(ctx, scope.child(`pfx${l}`), W, xs, ys);
    const nG = xorPlanes(
      W,
      js.map((j) => G[j]!),
      r,
    );
    for (let k = 0; k < js.length; k++) {
      const j = js[k]!;
      G[j] = nG[k]!;
      if (!last) P[j] = r[js.length + k]!;
    }
  }
  return G;
}

/**
 * What the carry circuits need from a binary sharing scheme: one batched AND layer over planes of W
 * words (one round), and local XOR. Lets other replicated schemes (rep4) reuse the circuits.
 */
export interface BitAlgebra<P> {
  and(scope: OpScope, W: number, xs: P[], ys: P[]): Promise<P[]>;
  xor(x: P, y: P): P;
  /** Optional batched `xor` over pairs (xs[k], ys[k]) (e.g. into one buffer); same values. */
  xorMany?(W: number, xs: P[], ys: P[]): P[];
}

/** The rep3 instance of `BitAlgebra`. */
export function rep3Bits(ctx: Rep3Ctx): BitAlgebra<Plane> {
  return { and: (scope, W, xs, ys) => andPlanes(ctx, scope, W, xs, ys), xor: xorPlane, xorMany: xorPlanes };
}

/**
 * Carry out of the top position of each of several independent (g, p) sequences (no carry in), by
 * binary trees of (G,P) combinations run in lockstep: one batched AND round per level for all trees,
 * ⌈log2 of the longest⌉ rounds.
 */
export async function carryOuts<P>(
  alg: BitAlgebra<P>,
  scope: OpScope,
  W: number,
  trees: readonly { g: P[]; p: P[] }[],
): Promise<P[]> {
  let Gs = trees.map((t) => t.g.slice());
  let Ps = trees.map((t) => t.p.slice());
  let level = 0;
  while (Gs.some((G) => G.length > 1)) {
    const xs: P[] = [];
    const ys: P[] = [];
    const at: number[] = [];
    for (let t = 0; t < Gs.length; t++) {
      const G = Gs[t]!;
      const P = Ps[t]!;
      at.push(xs.length);
      if (G.length < 2) continue;
      const pairs = G.length >>> 1;
      const final = G.length === 2;
      // combine (lo = 2k, hi = 2k+1): G = g_hi ⊕ p_hi∧g_lo; P = p_hi∧p_lo (not needed for the lowest node)
      for (let k = 0; k < pairs; k++) {
        xs.push(P[2 * k + 1]!);
        ys.push(G[2 * k]!);
      }
      if (!final)
        for (let k = 1; k < pairs; k++) {
          xs.push(P[2 * k + 1]!);
          ys.push(P[2 * k]!);
        }
    }
    const r = await alg.and(scope.child(`co${level++}`), W, xs, ys);
    // the new G of every pair: G_hi ⊕ (p_hi ∧ G_lo), all trees in one batch
    const hx: P[] = [];
    const hy: P[] = [];
    const xAt: number[] = [];
    for (let t = 0; t < Gs.length; t++) {
      const G = Gs[t]!;
      xAt.push(hx.length);
      if (G.length < 2) continue;
      const base = at[t]!;
      for (let k = 0; k < G.length >>> 1; k++) {
        hx.push(G[2 * k + 1]!);
        hy.push(r[base + k]!);
      }
    }
    const xg = alg.xorMany ? alg.xorMany(W, hx, hy) : hx.map((x, k) => alg.xor(x, hy[k]!));
    const nGs: P[][] = [];
    const nPs: P[][] = [];
    for (let t = 0; t < Gs.length; t++) {
      const G = Gs[t]!;
      const P = Ps[t]!;
      if (G.length < 2) {
        nGs.push(G);
        nPs.push(P);
        continue;
      }
      const base = at[t]!;
      const pairs = G.length >>> 1;
      const final = G.length === 2;
      const nG: P[] = [];
      const nP: P[] = [];
      for (let k = 0; k < pairs; k++) {
        nG.push(xg[xAt[t]! + k]!);
        nP.push(k === 0 || final ? P[2 * k]! /* unused */ : r[base + pairs + k - 1]!);
      }
      if (G.length & 1) {
        nG.push(G[G.length - 1]!);
        nP.push(P[P.length - 1]!);
      }
      nGs.push(nG);
      nPs.push(nP);
    }
    Gs = nGs;
    Ps = nPs;
  }
  return Gs.map((G) => G[0]!);
}

/**
 * One carry-out tree in flat form: `cnt` (g, p) planes of W words each, plane j at words
 * [j·W, (j+1)·W) of `ga`/`gb` (components a, b of g) and `pa`/`pb`.
 */
export interface FlatTree {
  readonly cnt: number;
  readonly ga: Uint32Array;
  readonly gb: Uint32Array;
  readonly pa: Uint32Array;
  readonly pb: Uint32Array;
  /**
   * The four buffers belong to this tree alone (not shared with another tree, not read by the caller
   * afterwards): `carryOutsFlat` may then overwrite them level by level instead of allocating.
   */
  readonly owned?: boolean;
}

/** z[zo..zo+W) = the local AND share of plane xo of (xa, xb) and plane yo of (ya, yb). */
export function andAt(
  z: Uint32Array,
  zo: number,
  W: number,
  xa: Uint32Array,
  xb: Uint32Array,
  xo: number,
  ya: Uint32Array,
  yb: Uint32Array,
  yo: number,
): void {
  for (let i = 0; i < W; i++) {
    const yai = ya[yo + i]!;
    z[zo + i] = (xa[xo + i]! & (yai ^ yb[yo + i]!)) ^ (xb[xo + i]! & yai);
  }
}

function xorAt(
  z: Uint32Array,
  zo: number,
  W: number,
  x: Uint32Array,
  xo: number,
  y: Uint32Array,
  yo: number,
): void {
  for (let i = 0; i < W; i++) z[zo + i] = x[xo + i]! ^ y[yo + i]!;
}

/**
 * `carryOuts` on flat planes (rep3): the same AND gates in the same order, so the same messages, but
 * every level is computed with index arithmetic over flat buffers, without one object per plane.
 * Returns the carry plane (a, b) of each tree.
 */
export async function carryOutsFlat(
  ctx: Rep3Ctx,
  scope: OpScope,
  W: number,
  trees: readonly FlatTree[],
): Promise<Plane[]> {
  let ts = trees.slice();
  let level = 0;
  while (ts.some((t) => t.cnt > 1)) {
    // message layout: per tree (in order), its G products then its P products
    const at: number[] = [];
    let K = 0;
    for (const t of ts) {
      at.push(K);
      if (t.cnt < 2) continue;
      const pairs = t.cnt >>> 1;
      K += t.cnt === 2 ? pairs : 2 * pairs - 1;
    }
    const z = new Uint32Array(K * W);
    for (let u = 0; u < ts.length; u++) {
      const t = ts[u]!;
      if (t.cnt < 2) continue;
      const pairs = t.cnt >>> 1;
      const base = at[u]!;
      // G_hi ∧ … : x = P[2k+1], y = G[2k]
      for (let k = 0; k < pairs; k++)
        andAt(z, (base + k) * W, W, t.pa, t.pb, (2 * k + 1) * W, t.ga, t.gb, 2 * k * W);
      if (t.cnt !== 2)
        for (let k = 1; k < pairs; k++)
          andAt(z, (base + pairs + k - 1) * W, W, t.pa, t.pb, (2 * k + 1) * W, t.pa, t.pb, 2 * k * W);
    }
    const r = await reshareB(ctx, scope.child(`co${level++}`), z);
    const next: FlatTree[] = [];
    for (let u = 0; u < ts.length; u++) {
      const t = ts[u]!;
      if (t.cnt < 2) {
        next.push(t);
        continue;
      }
      const pairs = t.cnt >>> 1;
      const base = at[u]!;
      const odd = t.cnt & 1;
      const cnt = pairs + odd;
      // in place when the buffers are this tree's (plane k is written after plane 2k+1 ≥ k is read,
      // and every plane below k was already consumed), else fresh buffers
      const own = t.owned === true;
      const ga = own ? t.ga : new Uint32Array(cnt * W);
      const gb = own ? t.gb : new Uint32Array(cnt * W);
      for (let k = 0; k < pairs; k++) {
        xorAt(ga, k * W, W, t.ga, (2 * k + 1) * W, r.a, (base + k) * W);
        xorAt(gb, k * W, W, t.gb, (2 * k + 1) * W, r.b, (base + k) * W);
      }
      let pa: Uint32Array;
      let pb: Uint32Array;
      if (t.cnt === 2) {
        pa = ga; // P of the lowest node is never used
        pb = gb;
      } else {
        pa = own ? t.pa : new Uint32Array(cnt * W);
        pb = own ? t.pb : new Uint32Array(cnt * W);
        // P_0 is never used (the lowest node needs no P); P_k = r's P product k, k ≥ 1
        pa.set(r.a.subarray((base + pairs) * W, (base + 2 * pairs - 1) * W), W);
        pb.set(r.b.subarray((base + pairs) * W, (base + 2 * pairs - 1) * W), W);
      }
      if (odd) {
        // the unpaired top plane t.cnt − 1 = 2·pairs moves down to plane `pairs` (above every plane
        // written so far)
        const from = (t.cnt - 1) * W;
        ga.set(t.ga.subarray(from, from + W), pairs * W);
        gb.set(t.gb.subarray(from, from + W), pairs * W);
        if (t.cnt !== 2) {
          pa.set(t.pa.subarray(from, from + W), pairs * W);
          pb.set(t.pb.subarray(from, from + W), pairs * W);
        }
      }
      next.push({ cnt, ga, gb, pa, pb, owned: true });
    }
    ts = next;
  }
  return ts.map((t) => ({ a: t.ga.subarray(0, W), b: t.gb.subarray(0, W) }));
}

/** Carry out of the top position only (binary tree of (G,P) combinations). */
export async function carryOut(
  ctx: Rep3Ctx,
  scope: OpScope,
  W: number,
  g: Plane[],
  p: Plane[],
): Promise<Plane> {
  const [c] = await carryOuts(rep3Bits(ctx), scope, W, [{ g, p }]);
  return c!;
}

export { xorPlane };
