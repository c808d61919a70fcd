/**
 * Fixed-point truncation for Shamir sharings over F_p: probabilistic truncation with a statistical
 * mask [CdH10, Protocol 3.1 "TruncPr"], in the form that needs no share of the mask's low part
 * after opening.
 *
 * With b = x + 2^67 ∈ [0, 2^68) (so |x| < 2^67 is supported; the ring schemes need |x| < 2^62) and a
 * preprocessed mask R = 2^f·R'' + R' (R' = Σ_{i<f} 2^i·r_i from f random bits nobody knows, R'' the
 * sum of every dealer's uniform (69 + κ − f)-bit integer), the parties open c = b + R. Then
 *   y = (c ≫ f) − [R''] − 2^(67−f) = ⌊(b + R')/2^f⌋ − 2^(67−f) = ⌊x/2^f⌋ + [frac(x/2^f)·2^f + R' ≥ 2^f],
 * i.e. ⌊x/2^f⌋ plus a carry that is 1 with probability exactly frac(x/2^f): ideal stochastic rounding,
 * at most 1 ulp from x/2^f, and never a large error. The rounding is decided by R', which no t parties
 * know (it is built from preprocessed random bits, prep.ts), so it is not the
 * share-dependent rounding that [Orca] shows leaky. c reveals b only up to statistical distance 2^-κ
 * (κ = 40 by default): R'' is uniform over 2^(69+κ−f) values for the honest dealer.
 *
 * Fused products (`mulFixed`, `matmulFixed`): the local share product is a degree-2t sharing of x·y;
 * masking it with [R]_2t and opening it with 2t + 1 shares performs the degree reduction and the
 * truncation at once, and y above is computed from the public c and [R'']_t only, so the result is a
 * degree-t sharing. One round and 16·(n − 1) bytes per output per party; no double sharing needed.
 * Offline per truncation: f random bits and one bounded random integer (prep.ts).
 * Security: semi-honest, honest majority; statistical 2^-κ.
 */
import * as F from '../../math/field.js';
import type { Fp } from '../../math/field.js';
import { ShareholdError } from '../../errors.js';
import type { ShamirCtx } from './context.js';
import { openAll } from './reveal.js';
import { fullMask, type Masks } from './prep.js';
import { matmulLocal } from './mul.js';

/** Truncation is exact-or-stochastic for |x| < 2^TRUNC_BITS. */
export const TRUNC_BITS = 67;
const OFFSET = 1n << BigInt(TRUNC_BITS);

function checkMasks(mk: Masks, n: number): void {
  if (mk.count < n)
    throw new ShareholdError('prep-exhausted', `need ${n} truncation masks, have ${mk.count}`);
}

/** Masked opening of a degree-d sharing x (d = t or 2t) and the truncated degree-t result. */
export async function truncDegree(ctx: ShamirCtx, opId: string, x: Fp, d: number, mk: Masks): Promise<Fp> {
  const n = F.fpLen(x);
  checkMasks(mk, n);
  const f = mk.m;
  const r = fullMask(mk, d === 2 * ctx.t);
  const masked = F.add(F.add(x, r, r), F.filled(n, OFFSET), r);
  const c = await openAll(ctx, opId, masked, d, 'a truncation');
  const y = F.sub(F.shr(c, f), mk.hi.t.subarray(0, 2 * n));
  return F.sub(y, F.filled(n, OFFSET >> BigInt(f)), y);
}

/** ⌊x / 2^f⌋ with ideal stochastic rounding, |x| < 2^67. */
export function trunc(ctx: ShamirCtx, opId: string, x: Fp, mk: Masks): Promise<Fp> {
  return truncDegree(ctx, opId, x, ctx.t, mk);
}

/** Fixed-point product ⌊x·y / 2^f⌋ in one round. */
export function mulTrunc(ctx: ShamirCtx, opId: string, x: Fp, y: Fp, mk: Masks): Promise<Fp> {
  return truncDegree(ctx, opId, F.mul(x, y), 2 * ctx.t, mk);
}

/** Fixed-point matrix product ⌊X·Y / 2^f⌋ (X m×k, Y k×n) in one round. */
export function matmulTrunc(
  ctx: ShamirCtx,
  opId: string,
  x: Fp,
  y: Fp,
  m: number,
  k: number,
  n: number,
  mk: Masks,
): Promise<Fp> {
  return truncDegree(ctx, opId, matmulLocal(x, y, m, k, n), 2 * ctx.t, mk);
}
