/**
 * Comparisons for Shamir sharings over F_p, after [CdH10] (LTZ via Mod2m with a statistical mask and
 * a bitwise comparison), with the bitwise part as a log-depth carry tree.
 *
 * ltz(x) = [x < 0] for |x| < 2^63. Open c = b + R with b = x + 2^63 ∈ [0, 2^64) and a preprocessed
 * mask R = 2^64·R'' + Σ_{i<64} 2^i·r_i (random bits r_i, statistical mask R'', prep.ts). With
 * c' = c mod 2^63 and u = [c' < Σ_{i<63} 2^i·r_i] (BitLT on public c' and secret bits),
 *   msb(b) = (c ≫ 63) − (2·R'' + r_63) − u   and   ltz(x) = 1 − msb(b).
 * BitLT: leaves (g_i, e_i) = ([r_i > c_i], [r_i = c_i]) are linear in r_i because c is public; pairs
 * combine as (g, e) = (g_hi + e_hi·g_lo, e_hi·e_lo) in ⌈log2 63⌉ = 6 rounds (the e of the block holding
 * bit 0 is never needed): 118 multiplications per element.
 * Rounds: 1 (open) + 6 = 7. Bytes per element per party: 16·(n − 1)·119 online. Offline: 64 random
 * bits, one bounded integer, 118 double sharings (prep.ts).
 *
 * eq(x, y) = [x = y] for |x − y| < 2^64: open c = (x − y + 2^64) + R; x = y iff c mod 2^64 equals
 * R's 64 low bits, i.e. the product of the 64 terms [r_i = c_i]: 63 multiplications in 6 rounds.
 * Rounds: 7. lt(x, y) = ltz(x − y) for |x − y| < 2^63. drelu = 1 − ltz; relu(x) = x·drelu(x): 8 rounds.
 *
 * mod2m64 (used by the additive → Shamir conversion): [x mod 2^64] for 0 ≤ x < 2^69 as
 * c' − R' + 2^64·[c' < R'] with c' = c mod 2^64 and a 64-bit BitLT (120 multiplications, 7 rounds).
 * Security: semi-honest, honest majority; statistical 2^-κ from the mask.
 */
import * as F from '../../math/field.js';
import type { Fp } from '../../math/field.js';
import { ShareholdError } from '../../errors.js';
import type { OpScope } from '../channel.js';
import type { ShamirCtx } from './context.js';
import { openAll } from './reveal.js';
import { fullMask, lowPart, type Masks } from './prep.js';
import { mul, sliceDoubles, type Doubles } from './mul.js';

/** Comparison masks carry this many low bits. */
export const CMP_BITS = 64;

/** Multiplications per element of BitLT on m bits. */
export function bitLtMults(m: number): number {
  let total = 0;
  for (let l = m; l > 1; l = Math.ceil(l / 2)) {
    const h = Math.floor(l / 2);
    total += 2 * h - 1;
  }
  return total;
}

/** Multiplications per element of the m-term product tree. */
export function prodMults(m: number): number {
  return m - 1;
}

export const LTZ_MULTS = bitLtMults(63);
export const EQ_MULTS = prodMults(CMP_BITS);

function checkMasks(mk: Masks, n: number): void {
  if (mk.count < n)
    throw new ShareholdError('prep-exhausted', `need ${n} comparison masks, have ${mk.count}`);
  if (mk.m !== CMP_BITS)
    throw new ShareholdError('invalid-argument', `comparison masks must have ${CMP_BITS} bits`);
}

/** Take doubles in order from a reserved block. */
class DoubleCursor {
  #off = 0;
  constructor(private readonly d: Doubles) {}
  take(n: number): Doubles {
    if (this.#off + n > F.fpLen(this.d.t))
      throw new ShareholdError('prep-exhausted', `comparison needs more double sharings than reserved`);
    const s = sliceDoubles(this.d, this.#off, this.#off + n);
    this.#off += n;
    return s;
  }
}

/**
 * Leaves: for each element e and bit i < m, the public bit c_i and the secret bit r = bits[e·M + i]:
 * e_i = [r = c_i] = c_i ? r : 1 − r, and (when `withG`) g_i = [r > c_i] = c_i ? 0 : r. Element-major.
 */
function leaves(c: BigUint64Array, bits: Fp, M: number, m: number, withG: boolean): { g: Fp; e: Fp } {
  const N = c.length;
  const g = F.zeros(N * m);
  const e = F.zeros(N * m);
  const one = F.filled(N * M, 1n);
  const notR = F.sub(one, bits, one);
  const cu = new Uint32Array(c.buffer, c.byteOffset, 2 * N);
  const bu = new Uint32Array(bits.buffer, bits.byteOffset, bits.length * 2);
  const nu = new Uint32Array(notR.buffer);
  const gu = new Uint32Array(g.buffer);
  const eu = new Uint32Array(e.buffer);
  for (let el = 0; el < N; el++)
    for (let i = 0; i < m; i++) {
      const ci = (cu[2 * el + (i >>> 5)]! >>> (i & 31)) & 1;
      const src = 4 * (el * M + i);
      const dst = 4 * (el * m + i);
      if (ci) {
        eu.set(bu.subarray(src, src + 4), dst);
      } else {
        eu.set(nu.subarray(src, src + 4), dst);
        if (withG) gu.set(bu.subarray(src, src + 4), dst);
      }
    }
  return { g, e };
}

/** Index arrays for one tree level over N elements of L blocks each. */
function levelIdx(N: number, L: number): { lo: Int32Array; hi: Int32Array; h: number } {
  const h = Math.floor(L / 2);
  const lo = new Int32Array(N * h);
  const hi = new Int32Array(N * h);
  for (let e = 0; e < N; e++)
    for (let j = 0; j < h; j++) {
      lo[e * h + j] = e * L + 2 * j;
      hi[e * h + j] = e * L + 2 * j + 1;
    }
  return { lo, hi, h };
}

/** Next level: N·L' blocks from the combined pairs (N·h) and, for odd L, the carried top block. */
function nextLevel(prev: Fp, comb: Fp, N: number, L: number, h: number): Fp {
  const L2 = Math.ceil(L / 2);
  const out = F.zeros(N * L2);
  for (let e = 0; e < N; e++) {
    out.set(comb.subarray(2 * e * h, 2 * (e + 1) * h), 2 * e * L2);
    if (L & 1) out.set(prev.subarray(2 * (e * L + L - 1), 2 * (e * L + L)), 2 * (e * L2 + h));
  }
  return out;
}

/**
 * [c < R'] for public c (the low m bits of each word of `c`) and R' = Σ_{i<m} 2^i·bits[e·M + i].
 */
export async function bitLt(
  ctx: ShamirCtx,
  scope: OpScope,
  c: BigUint64Array,
  bits: Fp,
  M: number,
  m: number,
  dbl: DoubleCursor,
): Promise<Fp> {
  const N = c.length;
  let { g, e } = leaves(c, bits, M, m, true);
  let L = m;
  let r = 0;
  while (L > 1) {
    const { lo, hi, h } = levelIdx(N, L);
    const eHi = F.gather(e, hi);
    // products: e_hi·g_lo for all pairs, e_hi·e_lo for pairs j ≥ 1
    const keep = new Int32Array(N * (h - 1));
    for (let el = 0, k = 0; el < N; el++) for (let j = 1; j < h; j++) keep[k++] = el * h + j;
    const left = F.concat([eHi, F.gather(eHi, keep)]);
    const right = F.concat([F.gather(g, lo), F.gather(F.gather(e, lo), keep)]);
    const prod = await mul(ctx, scope.child(`lt${r++}`).id, left, right, dbl.take(F.fpLen(left)));
    const gNew = F.add(F.gather(g, hi), prod.subarray(0, 2 * N * h));
    const eNew = F.zeros(N * h);
    const ee = prod.subarray(2 * N * h);
    for (let el = 0; el < N; el++)
      eNew.set(ee.subarray(2 * el * (h - 1), 2 * (el + 1) * (h - 1)), 2 * (el * h + 1));
    g = nextLevel(g, gNew, N, L, h);
    e = nextLevel(e, eNew, N, L, h);
    L = Math.ceil(L / 2);
  }
  return g;
}

/** Π_i [r_i = c_i] over the low m bits: [c mod 2^m = R' mod 2^m]. */
async function bitsEqual(
  ctx: ShamirCtx,
  scope: OpScope,
  c: BigUint64Array,
  bits: Fp,
  M: number,
  m: number,
  dbl: DoubleCursor,
): Promise<Fp> {
  const N = c.length;
  let { e } = leaves(c, bits, M, m, false);
  let L = m;
  let r = 0;
  while (L > 1) {
    const { lo, hi, h } = levelIdx(N, L);
    const a = F.gather(e, hi);
    const prod = await mul(ctx, scope.child(`eq${r++}`).id, a, F.gather(e, lo), dbl.take(F.fpLen(a)));
    e = nextLevel(e, prod, N, L, h);
    L = Math.ceil(L / 2);
  }
  return e;
}

/** Masked opening of b + R (degree t) for b ∈ [0, 2^69). */
async function openMasked(ctx: ShamirCtx, scope: OpScope, b: Fp, mk: Masks): Promise<Fp> {
  return openAll(ctx, scope.child('open').id, F.add(b, fullMask(mk, false)), ctx.t, 'a comparison');
}

/** [x < 0] for |x| < 2^63; needs one comparison mask and LTZ_MULTS double sharings per element. */
export async function ltz(ctx: ShamirCtx, scope: OpScope, x: Fp, mk: Masks, dbl: Doubles): Promise<Fp> {
  const N = F.fpLen(x);
  checkMasks(mk, N);
  const c = await openMasked(ctx, scope, F.addScalar(x, 1n << 63n), mk);
  const low = F.lowWords(c);
  const u = await bitLt(ctx, scope, low, mk.bits, CMP_BITS, 63, new DoubleCursor(dbl));
  // R''_63 = 2·R'' + r_63
  const top = new Int32Array(N);
  for (let e = 0; e < N; e++) top[e] = e * CMP_BITS + 63;
  const hi63 = F.add(F.add(mk.hi.t.subarray(0, 2 * N), mk.hi.t.subarray(0, 2 * N)), F.gather(mk.bits, top));
  // ltz = 1 − (c ≫ 63) + R''_63 + u
  const pub = F.sub(F.filled(N, 1n), F.shr(c, 63));
  return F.add(F.add(hi63, u, hi63), pub, hi63);
}

/** [d = 0] for |d| < 2^64; needs one comparison mask and EQ_MULTS double sharings per element. */
export async function eqz(ctx: ShamirCtx, scope: OpScope, d: Fp, mk: Masks, dbl: Doubles): Promise<Fp> {
  const N = F.fpLen(d);
  checkMasks(mk, N);
  const c = await openMasked(ctx, scope, F.addScalar(d, 1n << 64n), mk);
  return bitsEqual(ctx, scope, F.lowWords(c), mk.bits, CMP_BITS, CMP_BITS, new DoubleCursor(dbl));
}

/** [x mod 2^64] for 0 ≤ x < 2^69; one comparison mask and bitLtMults(64) double sharings per element. */
export async function mod2m64(ctx: ShamirCtx, scope: OpScope, x: Fp, mk: Masks, dbl: Doubles): Promise<Fp> {
  const N = F.fpLen(x);
  checkMasks(mk, N);
  const c = await openMasked(ctx, scope, x, mk);
  const low = F.lowWords(c);
  const u = await bitLt(ctx, scope, low, mk.bits, CMP_BITS, CMP_BITS, new DoubleCursor(dbl));
  // c' − R' + 2^64·u
  const res = F.sub(F.fromUnsigned(low), lowPart(mk));
  return F.add(res, F.mulScalar(u, 1n << 64n), res);
}
