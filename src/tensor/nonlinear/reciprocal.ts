/**
 * reciprocal(x) = 1/x — method: normalization by comparisons, then Newton–Raphson. One batched
 * comparison finds e = ⌊log2 x⌋ + 1 as bits [x ≥ 2^j]; α = 2^−e is a public-coefficient sum of those
 * bits (local), z = x·α ∈ [1/2, 1), w0 = 2.9142 − 2z (relative error ≤ 0.086), three Newton steps
 * w ← w·(2 − z·w) (error 0.086 → 7·10^-3 → 5·10^-5 → 3·10^-9), the last one also multiplying by α.
 * CrypTen ([CrypTen] Knott et al. 2021) instead starts from 3·e^(1/2−x) + 0.003 and runs 10 Newton
 * steps (≈ 28 rounds, 1.7% off).
 *
 * Input range: x ∈ [2^-6, 2^15) (positive only). Accuracy (f = 16, measured): relative error
 * ≤ 10^-3 on [2^-6, 2^8]; absolute error ≤ 3 ulp (5·10^-5) on [2^-6, 2^15).
 * Rounds (rep3): 1 comparison (9–10) + 1 (z) + 6 (three Newton steps) ≈ 17.
 */
import type { Engine } from '../../protocols/engine.js';
import { bitSum, fill, fx, geThresholds } from './util.js';

export const RECIPROCAL_RANGE: readonly [number, number] = [2 ** -6, 2 ** 15];

export interface ReciprocalOptions {
  /** Exponent range: x ∈ [2^lo, 2^hi). Default lo = −6, hi = 15. Fewer thresholds → less traffic. */
  readonly lo?: number;
  readonly hi?: number;
}

/** α = 2^−e with e = ⌊log2 x⌋ + 1, for x ∈ [2^lo, 2^hi); one batched comparison. */
export async function normalizer<S>(
  e: Engine<S>,
  x: S,
  lo: number,
  hi: number,
): Promise<{ alpha: S; bits: S[] }> {
  const js: number[] = [];
  for (let j = lo + 1; j < hi; j++) js.push(j);
  const bits = await geThresholds(
    e,
    x,
    js.map((j) => fx(2 ** j, e.f)),
  );
  // α = 2^-(lo+1) − Σ_j b_j · 2^-(j+1)
  const alpha = bitSum(
    e,
    bits,
    fx(2 ** -(lo + 1), e.f),
    js.map((j) => -fx(2 ** -(j + 1), e.f)),
  );
  return { alpha, bits };
}

/** Newton steps for 1/z, z ∈ [1/2, 1); the last step multiplies by `scale` (fixed point). */
export async function newtonRecip<S>(e: Engine<S>, z: S, scale: S, steps = 3): Promise<S> {
  const n = e.length(z);
  const two = fill(n, 2n << BigInt(e.f));
  let w = e.addPublic(e.mulScalar(z, -2n), fill(n, fx(2.9142, e.f)));
  for (let i = 0; i < steps - 1; i++) {
    const t = await e.mulFixed(z, w);
    w = await e.mulFixed(w, e.addPublic(e.neg(t), two));
  }
  const r = await e.mulFixed(e.concat([z, w]), e.concat([w, scale]));
  return e.mulFixed(e.slice(r, n, 2 * n), e.addPublic(e.neg(e.slice(r, 0, n)), two));
}

export async function reciprocal<S>(e: Engine<S>, x: S, opts: ReciprocalOptions = {}): Promise<S> {
  const { alpha } = await normalizer(e, x, opts.lo ?? -6, opts.hi ?? 15);
  const z = await e.mulFixed(x, alpha);
  return newtonRecip(e, z, alpha);
}
