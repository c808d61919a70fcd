/**
 * Binary circuits on bit-sliced XOR shares among n parties, with binary Beaver triples.
 *
 * `andW`: z = x ∧ y with a triple (a, b, c = a∧b): open d = x ⊕ a, e = y ⊕ b (one message per peer),
 *   z_i = c_i ⊕ d∧b_i ⊕ e∧a_i (⊕ d∧e at party 0). One round; 2 bits per AND gate to each peer.
 *   Every circuit layer is one call over all its gates (32 gates per word).
 * `carryOut`: the carry out of the top of a w-position adder from generate/propagate planes, by a
 *   binary tree of (G, P) combinations [ABY3 §5.3 / Sklansky]: ⌈log2 w⌉ rounds, ≈ 2w AND planes.
 * `andTree`: the AND of w planes by a binary tree: ⌈log2 w⌉ rounds, w − 1 AND planes.
 * Triples for a whole circuit are reserved before it starts and handed out layer by layer
 * (`TripleCursor`), so concurrent operations never race for them.
 * Security: semi-honest, dishonest majority.
 */
import type { OpScope } from '../channel.js';
import { ShareholdError, invalidArgument } from '../../errors.js';
import type { AddCtx } from './context.js';
import { openWords } from './open.js';
import { sliceBinTriples, type BinTriples } from './prep.js';

/** Hands out consecutive word ranges of a reserved block of binary triples. */
export class TripleCursor {
  #off = 0;
  constructor(readonly t: BinTriples) {}
  take(words: number): BinTriples {
    if (this.#off + words > this.t.a.length)
      throw new ShareholdError(
        'prep-exhausted',
        `binary triples: need ${this.#off + words} words, reserved ${this.t.a.length}`,
      );
    const s = sliceBinTriples(this.t, this.#off, this.#off + words);
    this.#off += words;
    return s;
  }
}

/** z = x ∧ y on flat word arrays (one round). */
export async function andW(
  ctx: AddCtx,
  scope: OpScope,
  x: Uint32Array,
  y: Uint32Array,
  t: BinTriples,
): Promise<Uint32Array> {
  const L = x.length;
  if (y.length !== L) throw invalidArgument(`AND length mismatch: ${L} vs ${y.length}`);
  if (t.a.length < L)
    throw new ShareholdError('prep-exhausted', `need ${L} words of binary triples, have ${t.a.length}`);
  const m = new Uint32Array(2 * L);
  for (let i = 0; i < L; i++) {
    m[i] = x[i]! ^ t.a[i]!;
    m[L + i] = y[i]! ^ t.b[i]!;
  }
  const o = await openWords(ctx, scope, m);
  const z = new Uint32Array(L);
  const { a, b, c } = t;
  for (let i = 0; i < L; i++) z[i] = c[i]! ^ (o[i]! & b[i]!) ^ (o[L + i]! & a[i]!);
  if (ctx.me === 0) for (let i = 0; i < L; i++) z[i]! ^= o[i]! & o[L + i]!;
  return z;
}

function concat(parts: readonly Uint32Array[], W: number): Uint32Array {
  const out = new Uint32Array(parts.length * W);
  parts.forEach((p, i) => out.set(p, i * W));
  return out;
}

/** One batched AND of plane pairs xs[k] ∧ ys[k]. */
export async function andPlanes(
  ctx: AddCtx,
  scope: OpScope,
  W: number,
  xs: readonly Uint32Array[],
  ys: readonly Uint32Array[],
  cur: TripleCursor,
): Promise<Uint32Array[]> {
  if (xs.length === 0) return [];
  const z = await andW(ctx, scope, concat(xs, W), concat(ys, W), cur.take(xs.length * W));
  return xs.map((_, k) => z.subarray(k * W, (k + 1) * W));
}

export function xorPlane(x: Uint32Array, y: Uint32Array): Uint32Array {
  const o = new Uint32Array(x.length);
  for (let i = 0; i < o.length; i++) o[i] = x[i]! ^ y[i]!;
  return o;
}

/** AND planes `carryOut` uses for w leaves (the same loop, counting only). */
export function carryOutPlanes(w: number): number {
  let total = 0;
  let len = w;
  while (len > 1) {
    const pairs = len >>> 1;
    total += pairs + (len === 2 ? 0 : pairs - 1);
    len = pairs + (len & 1);
  }
  return total;
}

/** Rounds of `carryOut` for w leaves. */
export function treeDepth(w: number): number {
  let d = 0;
  for (let len = w; len > 1; len = (len >>> 1) + (len & 1)) d++;
  return d;
}

/**
 * Carry out of the top position, from generate/propagate planes g[j], p[j] (j = 0 lowest; p[0] is
 * never used). G = g_hi ⊕ p_hi∧G_lo, P = p_hi∧p_lo per combination.
 */
export async function carryOut(
  ctx: AddCtx,
  scope: OpScope,
  W: number,
  g: readonly Uint32Array[],
  p: readonly Uint32Array[],
  cur: TripleCursor,
): Promise<Uint32Array> {
  let G = g.slice();
  let P = p.slice();
  let level = 0;
  while (G.length > 1) {
    const pairs = G.length >>> 1;
    const final = G.length === 2;
    const xs: Uint32Array[] = [];
    const ys: Uint32Array[] = [];
    for (let k = 0; k < pairs; k++) {
      xs.push(P[2 * k + 1]!);
      ys.push(G[2 * k]!);
    }
    if (!final)
      for (let k = 1; k < pairs; k++) {
        xs.push(P[2 * k + 1]!);
        ys.push(P[2 * k]!);
      }
    const r = await andPlanes(ctx, scope.child(`co${level++}`), W, xs, ys, cur);
    const nG: Uint32Array[] = [];
    const nP: Uint32Array[] = [];
    for (let k = 0; k < pairs; k++) {
      nG.push(xorPlane(G[2 * k + 1]!, r[k]!));
      // the lowest group's P is never used
      nP.push(k === 0 || final ? P[2 * k]! : r[pairs + k - 1]!);
    }
    if (G.length & 1) {
      nG.push(G[G.length - 1]!);
      nP.push(P[P.length - 1]!);
    }
    G = nG;
    P = nP;
  }
  return G[0]!;
}

/** AND planes `andTree` uses for w leaves. */
export function andTreePlanes(w: number): number {
  return Math.max(0, w - 1);
}

/** AND of all planes xs[j], by a binary tree. */
export async function andTree(
  ctx: AddCtx,
  scope: OpScope,
  W: number,
  xs: readonly Uint32Array[],
  cur: TripleCursor,
): Promise<Uint32Array> {
  let X = xs.slice();
  let level = 0;
  while (X.length > 1) {
    const pairs = X.length >>> 1;
    const r = await andPlanes(
      ctx,
      scope.child(`at${level++}`),
      W,
      X.filter((_, i) => i < 2 * pairs && i % 2 === 0),
      X.filter((_, i) => i < 2 * pairs && i % 2 === 1),
      cur,
    );
    if (X.length & 1) r.push(X[X.length - 1]!);
    X = r;
  }
  return X[0]!;
}
