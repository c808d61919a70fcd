/**
 * exp(x) — method: range reduction without comparisons, exp(x) = p(x/32)^32, where p is a degree-4
 * polynomial fitted (weighted least squares, relative error, coefficients quantized to what the
 * circuit computes exactly) to e^y on [−1/2, 1/2], followed by 5 squarings. Compared with CrypTen's
 * limit (1 + x/2^8)^(2^8) ([CrypTen] Knott et al., "CrypTen: Secure Multi-Party Computation Meets
 * Machine Learning", NeurIPS 2021, §C), which has a first-order base and 8 squarings, the degree-4
 * base removes the truncation-of-the-series error (CrypTen: 6% on [0, 10]).
 *
 * Input range: [−16, 16] (inputs beyond: no guarantee; the polynomial is only fitted on [−1/2, 1/2];
 * use `clamp` or clamp before calling). Output < 2^24 keeps the last square under 2^(62−2f).
 * Accuracy (f = 16, measured in test/tensor/nonlinear.test.ts): absolute error ≤ 2·10^-5 + 3·10^-3·e^x
 * on [−16, 16] (measured max ≈ 0.75 of that bound); relative error ≤ 3·10^-3 for x ∈ [−4, 16] (measured
 * ≈ 2·10^-3; below −4 the output is < 1200 ulp and stochastic rounding alone nears 10^-3 relative — a
 * run reached 3.05·10^-3 at x = −4.96). The last
 * squaring multiplies two values ≤ e^8, so its product ≤ e^16 < 2^30 stays inside 2^(62−2f) at f = 16.
 * Rounds: 8 online (offline truncation pairs and triples preprocessed).
 * Rounds (rep3): 8 = 1 (trunc: y, c3·y, c4·y) + 1 (y², c4·y²) + 1 (y²·(c2 + c3·y + c4·y²)) + 5 squarings.
 */
import type { Engine } from '../../protocols/engine.js';
import { fill } from './util.js';

/** Coefficients of p: c0, c2 at scale 2^16; c1, c3, c4 as multiples of 2^-11 (computed as K·x/2^16). */
const C0 = 1;
const C2 = 32796 / 65536;
const K1 = 2048n;
const K3 = 345n;
const K4 = 82n;
export const EXP_RANGE: readonly [number, number] = [-16, 16];
export const EXP_ROUNDS = 8;

export async function exp<S>(e: Engine<S>, x: S): Promise<S> {
  const n = e.length(x);
  const f = e.f;
  // K·x/2^f = (K/2^11)·(x/32) when f = 16; for other f rescale K by 2^(f−16) (exact for f ≥ 16)
  const sc = (k: bigint): bigint => (f >= 16 ? k << BigInt(f - 16) : k >> BigInt(16 - f));
  const r0 = await e.trunc(
    e.concat([e.mulScalar(x, sc(K1)), e.mulScalar(x, sc(K3)), e.mulScalar(x, sc(K4))]),
  );
  const y = e.slice(r0, 0, n);
  const c3y = e.slice(r0, n, 2 * n);
  const c4y = e.slice(r0, 2 * n, 3 * n);
  const r1 = await e.mulFixed(e.concat([y, c4y]), e.concat([y, y]));
  const y2 = e.slice(r1, 0, n);
  const c4y2 = e.slice(r1, n, 2 * n);
  const inner = e.addPublic(e.add(c3y, c4y2), fill(n, BigInt(Math.round(C2 * 2 ** f))));
  const t = await e.mulFixed(y2, inner);
  let b = e.addPublic(e.add(y, t), fill(n, BigInt(Math.round(C0 * 2 ** f))));
  for (let i = 0; i < 5; i++) b = await e.mulFixed(b, b);
  return b;
}
