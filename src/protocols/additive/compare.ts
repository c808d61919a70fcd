/**
 * Comparisons for n-party additive shares: arithmetic → binary conversion of the sign bit with a
 * masked opening and a log-depth carry circuit, then bit injection with a daBit.
 *
 * ltz(x) = [x < 0] (x read as signed 64-bit):
 *   1. open c = x + r with an edaBit r (uniform in Z_2^64, so c reveals nothing): 1 round;
 *   2. x = c − r = c + ¬r + 1, and msb(x) = c_63 ⊕ ¬r_63 ⊕ carry into bit 63. With c public, the
 *      generate/propagate bits g_j = c_j ∧ ¬r_j, p_j = c_j ⊕ ¬r_j are local, the carry-in 1 folds into
 *      G_0 = g_0 ⊕ p_0, and the carry out of positions 0..62 takes a binary tree of
 *      (G, P) combinations (binary.ts): 6 rounds, 118 AND planes;
 *   3. bit → arithmetic with a daBit (r_b, [r_b]^A): open e = msb ⊕ r_b, [msb] = e + r − 2e·r: 1 round.
 *   Rounds: 8. Bytes per element per peer: 8 (c) + 118·2/8 (ANDs) + 1/8 (injection) ≈ 37.6.
 *   Offline per element: one edaBit, one daBit, 118 binary triples.
 * eq(x, y): zero test of z = x − y (exact in Z_2^64, no range limit): open c = z + r; z = 0 iff c = r
 *   iff every bit of ¬(c ⊕ r) is 1: an AND tree over 64 planes (6 rounds, 63 AND planes), then
 *   injection. Rounds: 8. lt(x, y) = ltz(x − y) for |x − y| < 2^63.
 * drelu(x) = 1 − ltz(x); relu(x) = x·drelu(x) with one Beaver multiplication (9 rounds).
 * Security: semi-honest, dishonest majority.
 */
import { lastWordMask, toPlanes, wordsPerPlane } from '../../math/bits.js';
import type { OpScope } from '../channel.js';
import { ShareholdError } from '../../errors.js';
import type { AddA } from '../../sharing/additive/additive.js';
import type { AddCtx } from './context.js';
import { openA, openWords } from './open.js';
import { andTree, andTreePlanes, carryOut, carryOutPlanes, TripleCursor, xorPlane } from './binary.js';
import type { BinTriples, DaBits, EdaBits } from './prep.js';

/** AND planes per element-word of one sign test (63 carry leaves). */
export const LTZ_AND_PLANES = carryOutPlanes(63);
/** AND planes per element-word of one zero test (64 leaves). */
export const EQ_AND_PLANES = andTreePlanes(64);

/** Material reserved for one comparison batch. */
export interface CompareMaterial {
  readonly eda: Promise<EdaBits>;
  readonly da: Promise<DaBits>;
  readonly bin: Promise<BinTriples>;
}

function checkEda(e: EdaBits, n: number): void {
  if (e.n < n) throw new ShareholdError('prep-exhausted', `need ${n} edaBits, have ${e.n}`);
}

/** Open x + r and return (c public, my share of the planes of r). */
async function maskedOpen(ctx: AddCtx, scope: OpScope, x: AddA, eda: EdaBits): Promise<BigUint64Array> {
  const n = x.v.length;
  checkEda(eda, n);
  const m = new BigUint64Array(n);
  for (let i = 0; i < n; i++) m[i] = x.v[i]! + eda.r[i]!;
  const [c] = await openA(ctx, scope, [m]);
  return c!;
}

/** XOR share of msb(x) as one plane. */
export async function msbPlane(
  ctx: AddCtx,
  scope: OpScope,
  x: AddA,
  mat: CompareMaterial,
): Promise<Uint32Array> {
  const n = x.v.length;
  const W = wordsPerPlane(n);
  const eda = await mat.eda;
  const c = await maskedOpen(ctx, scope.child('open'), x, eda);
  const cp = toPlanes(c);
  const p0 = ctx.me === 0;
  const R = (j: number): Uint32Array => eda.bits.subarray(j * W, (j + 1) * W);
  const C = (j: number): Uint32Array => cp.subarray(j * W, (j + 1) * W);
  // my share of ¬r_j: party 0 flips
  const notR = (j: number): Uint32Array => {
    const r = R(j);
    const o = new Uint32Array(W);
    for (let i = 0; i < W; i++) o[i] = p0 ? ~r[i]! : r[i]!;
    return o;
  };
  const g: Uint32Array[] = [];
  const p: Uint32Array[] = [];
  for (let j = 0; j < 63; j++) {
    const b = notR(j);
    const cj = C(j);
    const gj = new Uint32Array(W);
    const pj = new Uint32Array(W);
    for (let i = 0; i < W; i++) {
      gj[i] = cj[i]! & b[i]!;
      pj[i] = p0 ? b[i]! ^ cj[i]! : b[i]!;
    }
    g.push(j === 0 ? xorPlane(gj, pj) : gj); // carry-in 1: G_0 = g_0 ∨ p_0 = g_0 ⊕ p_0
    p.push(pj);
  }
  const cur = new TripleCursor(await mat.bin);
  const carry = await carryOut(ctx, scope.child('tree'), W, g, p, cur);
  const b63 = notR(63);
  const c63 = C(63);
  const msb = new Uint32Array(W);
  for (let i = 0; i < W; i++) msb[i] = b63[i]! ^ carry[i]! ^ (p0 ? c63[i]! : 0);
  return msb;
}

/** XOR share of [x = 0] as one plane. */
export async function isZeroPlane(
  ctx: AddCtx,
  scope: OpScope,
  x: AddA,
  mat: CompareMaterial,
): Promise<Uint32Array> {
  const n = x.v.length;
  const W = wordsPerPlane(n);
  const eda = await mat.eda;
  const c = await maskedOpen(ctx, scope.child('open'), x, eda);
  const cp = toPlanes(c);
  const p0 = ctx.me === 0;
  const leaves: Uint32Array[] = [];
  for (let j = 0; j < 64; j++) {
    const o = new Uint32Array(W);
    const r = eda.bits.subarray(j * W, (j + 1) * W);
    const cj = cp.subarray(j * W, (j + 1) * W);
    // ¬(c_j ⊕ r_j): party 0 adds ¬c_j
    for (let i = 0; i < W; i++) o[i] = p0 ? r[i]! ^ ~cj[i]! : r[i]!;
    leaves.push(o);
  }
  const cur = new TripleCursor(await mat.bin);
  return andTree(ctx, scope.child('tree'), W, leaves, cur);
}

/** XOR-shared bit plane → arithmetic 0/1 with a daBit (one round). */
export async function injectBit(
  ctx: AddCtx,
  scope: OpScope,
  bit: Uint32Array,
  n: number,
  da: Promise<DaBits>,
): Promise<AddA> {
  const d = await da;
  if (d.n < n) throw new ShareholdError('prep-exhausted', `need ${n} daBits, have ${d.n}`);
  const W = wordsPerPlane(n);
  const m = new Uint32Array(W);
  for (let i = 0; i < W; i++) m[i] = bit[i]! ^ d.bit[i]!;
  m[W - 1]! &= lastWordMask(n);
  const e = await openWords(ctx, scope, m);
  const v = new BigUint64Array(n);
  const r = d.r;
  for (let i = 0; i < n; i++) v[i] = (e[i >>> 5]! >>> (i & 31)) & 1 ? -r[i]! : r[i]!;
  if (ctx.me === 0) {
    const one = new BigUint64Array(n);
    const o32 = new Uint32Array(one.buffer);
    for (let i = 0; i < n; i++) o32[2 * i] = (e[i >>> 5]! >>> (i & 31)) & 1;
    for (let i = 0; i < n; i++) v[i] = v[i]! + one[i]!;
  }
  return { v };
}

/** [x < 0] as an arithmetic 0/1 sharing (8 rounds). */
export async function ltz(ctx: AddCtx, scope: OpScope, x: AddA, mat: CompareMaterial): Promise<AddA> {
  const bit = await msbPlane(ctx, scope.child('msb'), x, mat);
  return injectBit(ctx, scope.child('inj'), bit, x.v.length, mat.da);
}

/** [x = 0] as an arithmetic 0/1 sharing (8 rounds). */
export async function isZero(ctx: AddCtx, scope: OpScope, x: AddA, mat: CompareMaterial): Promise<AddA> {
  const bit = await isZeroPlane(ctx, scope.child('zero'), x, mat);
  return injectBit(ctx, scope.child('inj'), bit, x.v.length, mat.da);
}
