/**
 * Multiplication of Shamir sharings with degree reduction from double sharings [DN07].
 *
 * Party i multiplies its shares locally, x_i·y_i, a share of a degree-2t sharing of x·y, adds its
 * share of [r]_2t from a random double sharing ([r]_t, [r]_2t) (preprocessed, prep.ts), and the
 * parties open d = x·y + r (degree 2t: any 2t + 1 shares). Then [x·y]_t = d − [r]_t. The opened
 * polynomial is uniformly random apart from d, and d is uniform, so nothing leaks.
 * Rounds: 1. Bytes: 16·(n − 1) per product per party (every party opens to every party, so the step
 * needs no agreement on who is alive and survives dropouts down to 2t + 1 parties). DN07's variant
 * with one "king" per value would send O(1) per party but costs a second round; not used here.
 *
 * Matrix products (and inner products generally) are reduced once per output: the local share
 * product X_i·Y_i is a degree-2t sharing of X·Y, so a matmul costs m·n double sharings and 16·(n−1)·m·n
 * bytes per party, independent of the inner dimension.
 * Security: semi-honest, honest majority.
 */
import * as F from '../../math/field.js';
import type { Fp } from '../../math/field.js';
import { ShareholdError, invalidArgument } from '../../errors.js';
import type { ShamirCtx } from './context.js';
import { openAll } from './reveal.js';

/** A random double sharing: the same uniform value under degree t and degree 2t. */
export interface Doubles {
  readonly t: Fp;
  readonly t2: Fp;
}

export function sliceDoubles(d: Doubles, start: number, end: number): Doubles {
  return { t: d.t.subarray(2 * start, 2 * end), t2: d.t2.subarray(2 * start, 2 * end) };
}

function checkDoubles(d: Doubles, n: number): void {
  if (F.fpLen(d.t) < n)
    throw new ShareholdError('prep-exhausted', `need ${n} double sharings, have ${F.fpLen(d.t)}`);
}

/** Degree reduction: [z]_t from a local degree-2t share z2 (consumed: z2 is overwritten). */
export async function reduce(ctx: ShamirCtx, opId: string, z2: Fp, dbl: Doubles): Promise<Fp> {
  const n = F.fpLen(z2);
  checkDoubles(dbl, n);
  const masked = F.add(z2, dbl.t2.subarray(0, 2 * n), z2);
  const d = await openAll(ctx, opId, masked, 2 * ctx.t, 'a multiplication');
  return F.sub(d, dbl.t.subarray(0, 2 * n), d);
}

/** Element-wise product [x·y]_t. */
export async function mul(ctx: ShamirCtx, opId: string, x: Fp, y: Fp, dbl: Doubles): Promise<Fp> {
  if (x.length !== y.length) throw invalidArgument(`mul length mismatch: ${x.length / 2} vs ${y.length / 2}`);
  return reduce(ctx, opId, F.mul(x, y), dbl);
}

/** Local share product of X (m×k) and Y (k×n): a degree-2t sharing of X·Y. */
export function matmulLocal(x: Fp, y: Fp, m: number, k: number, n: number): Fp {
  if (F.fpLen(x) !== m * k || F.fpLen(y) !== k * n)
    throw invalidArgument(
      `matmul shapes: X has ${F.fpLen(x)} elements (want ${m}x${k}), Y has ${F.fpLen(y)} (want ${k}x${n})`,
    );
  return F.matmul(x, y, m, k, n);
}

/** [X·Y]_t for X m×k, Y k×n (row-major); needs m·n double sharings. */
export async function matmul(
  ctx: ShamirCtx,
  opId: string,
  x: Fp,
  y: Fp,
  m: number,
  k: number,
  n: number,
  dbl: Doubles,
): Promise<Fp> {
  return reduce(ctx, opId, matmulLocal(x, y, m, k, n), dbl);
}
