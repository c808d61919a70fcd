/** Shared helpers for the non-linear functions: public constants, threshold comparisons, bit sums. */
import type { Engine } from '../../protocols/engine.js';

/** A public vector of n copies of the ring word v. */
export function fill(n: number, v: bigint): BigUint64Array {
  return new BigUint64Array(n).fill(BigInt.asUintN(64, v));
}

/** round(c · 2^bits) as a bigint. */
export function fx(c: number, bits: number): bigint {
  return BigInt(Math.round(c * 2 ** bits));
}

/** A sharing of the public constant c (fixed point, f fractional bits) repeated n times. */
export function constFx<S>(e: Engine<S>, n: number, c: number): S {
  return e.constant(fill(n, fx(c, e.f)));
}

/**
 * [x ≥ T_j] for public thresholds (fixed point), as 0/1 integers: one batched ltz for all thresholds.
 * Returns one sharing of length n per threshold. `width` (< 64): the caller guarantees
 * |x − T_j| < 2^(width−1) ring units (e.g. from the function's documented input range); engines with
 * narrow comparisons (rep3, rep4: an extra `width` argument of `ltz`) then compare on that many bits,
 * the others ignore it.
 */
export async function geThresholds<S>(
  e: Engine<S>,
  x: S,
  thresholds: readonly bigint[],
  width = 64,
): Promise<S[]> {
  const n = e.length(x);
  const v = e.concat(thresholds.map((t) => e.addPublic(x, fill(n, -t))));
  const narrow = width < 64 && (e.scheme === 'rep3' || e.scheme === 'rep4');
  const lt = narrow
    ? await (e as unknown as { ltz(x: S, w: number): Promise<S> }).ltz(v, width)
    : await e.ltz(v);
  const one = fill(n, 1n);
  return thresholds.map((_, j) => e.addPublic(e.neg(e.slice(lt, j * n, (j + 1) * n)), one));
}

/** c0 + Σ_j bits_j · c_j (public integer coefficients): local. */
export function bitSum<S>(e: Engine<S>, bits: readonly S[], c0: bigint, cs: readonly bigint[]): S {
  const n = e.length(bits[0]!);
  let acc = e.constant(fill(n, c0));
  bits.forEach((b, j) => {
    acc = e.add(acc, e.mulScalar(b, cs[j]!));
  });
  return acc;
}

/** Least-squares polynomial fit (monomial coefficients c0..c_deg) of fn on [a, b] at Chebyshev nodes. */
export function fitPoly(fn: (t: number) => number, a: number, b: number, deg: number): number[] {
  const m = deg + 1;
  const A = Array.from({ length: m }, () => new Array<number>(m).fill(0));
  const r = new Array<number>(m).fill(0);
  const N = 400;
  for (let i = 0; i < N; i++) {
    const t = (a + b) / 2 + ((b - a) / 2) * Math.cos((Math.PI * (i + 0.5)) / N);
    const y = fn(t);
    for (let p = 0; p < m; p++) {
      r[p]! += t ** p * y;
      for (let q = 0; q < m; q++) A[p]![q]! += t ** (p + q);
    }
  }
  for (let i = 0; i < m; i++) {
    let piv = i;
    for (let k = i + 1; k < m; k++) if (Math.abs(A[k]![i]!) > Math.abs(A[piv]![i]!)) piv = k;
    [A[i], A[piv]] = [A[piv]!, A[i]!];
    [r[i], r[piv]] = [r[piv]!, r[i]!];
    for (let k = i + 1; k < m; k++) {
      const g = A[k]![i]! / A[i]![i]!;
      for (let c = i; c < m; c++) A[k]![c]! -= g * A[i]![c]!;
      r[k]! -= g * r[i]!;
    }
  }
  const c = new Array<number>(m).fill(0);
  for (let i = m - 1; i >= 0; i--) {
    let s = r[i]!;
    for (let k = i + 1; k < m; k++) s -= A[i]![k]! * c[k]!;
    c[i] = s / A[i]![i]!;
  }
  return c;
}
