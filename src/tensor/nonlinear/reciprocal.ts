/**
 * reciprocal(x) = 1/x — method: normalization by comparisons, then Newton–Raphson. One batched
 * comparison finds e = ⌊log2 x⌋ + 1 as bits [x ≥ 2^j]; α = 2^−e is a public-coefficient sum of those
 * bits (local), z = x·α ∈ [1/2, 1), w0 = 2.9142 − 2z (relative error ≤ 0.086), three Newton steps
 * w ← w·(2 − z·w) (error 0.086 → 7·10^-3 → 5·10^-5 → 3·10^-9), then one product w·α (a single
 * truncation on the small output; folding α into the last step cost a second ulp).
 * CrypTen ([CrypTen] Knott et al. 2021) instead starts from 3·e^(1/2−x) + 0.003 and runs 10 Newton
 * steps (≈ 28 rounds, 1.7% off).
 *
 * Input range: x ∈ [2^-6, 2^15) (positive only). Accuracy (f = 16, tested against 1/x̂ for the encoded
 * input x̂): |y − 1/x̂| ≤ 1.5·2^-16 + 10^-4/x̂, i.e. relative ≤ 10^-4 + 2.3·10^-5·x̂ — ≤ 10^-3 up to
 * x = 32, < 1.7% (CrypTen) up to x ≈ 700; above that the output itself is only a few ulp (the relative
 * error is resolution-limited, e.g. ≈ 0.3 at 2^15 where 1/x = 2 ulp).
 * Rounds (rep3, online): comparison + 1 (z) + 6 (Newton) + 1 (×α) = 17 measured.
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
  for (let i = 0; i < steps; i++) {
    const t = await e.mulFixed(z, w);
    w = await e.mulFixed(w, e.addPublic(e.neg(t), two));
  }
  // scale last, on the converged w: a single truncation (≤ 1 ulp) on the small output
  return e.mulFixed(w, scale);
}

export async function reciprocal<S>(e: Engine<S>, x: S, opts: ReciprocalOptions = {}): Promise<S> {
  const { alpha } = await normalizer(e, x, opts.lo ?? -6, opts.hi ?? 15);
  const z = await e.mulFixed(x, alpha);
  return newtonRecip(e, z, alpha);
}
