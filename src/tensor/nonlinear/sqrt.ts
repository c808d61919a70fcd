/**
 * sqrt(x) and rsqrt(x) = 1/√x — method: normalization by one batched comparison against powers of 4
 * (bits [x ≥ 4^j]; e = lo + 1 + Σ bits, α = 4^−e and β = 2^−e linear in the bits), z = x·α ∈ [1/4, 1),
 * w0 = 2 − z, three Newton steps w ← 1.5·w − (z/2)·w³ (2 rounds each: [w², (z/2)·w, 1.5·w], then the
 * product), then rsqrt = β·w and sqrt = (x·β)·w (x·β computed with z). Newton for the inverse square root
 * as in CrypTen ([CrypTen] Knott et al. 2021), which starts from an exp-based guess instead.
 *
 * Input range: x ∈ [2^-12, 2^14). Accuracy (f = 16, tested against the encoded input x̂):
 * |y − r| ≤ 2^-16 + 3·10^-4·r, hence relative error ≤ 2·10^-3 (rsqrt: for x ≤ 2^13; one ulp is 2·10^-3 of
 * 1/√x near 2^14) (measured sqrt ≈ 8·10^-4 at x near 2^-12, rsqrt ≈ 1.5·10^-3 near 2^14 — both the 2^-16
 * resolution of small outputs; the earlier 1.5·10^-2 was the encoding error of x = 2^-12, 16 ulp).
 * Rounds (rep3, online): 16 measured = comparison (8: on 33 bits, see `core`; 9 on 64) + 1 + 6 + 1;
 * the same on rep4 (narrow comparisons), 17 on engines without them.
 */
import type { Engine } from '../../protocols/engine.js';
import { bitSum, fill, fx, geThresholds } from './util.js';

const LO = -6; // x ≥ 4^LO
const HI = 7; // x < 4^HI

async function core<S>(e: Engine<S>, x: S): Promise<{ w: S; beta: S; xbeta: S }> {
  const n = e.length(x);
  const f = e.f;
  const js: number[] = [];
  for (let j = LO + 1; j < HI; j++) js.push(j);
  // inputs below 2^14 (the documented range) and thresholds below 2^12: |x − T| < 2^(14+f) ring
  // units, so the comparisons run on 33 bits at f ≤ 18 (rep3/rep4: half the bytes, one round less);
  // an input up to 2^(32−f) still compares correctly
  const bits = await geThresholds(
    e,
    x,
    js.map((j) => fx(4 ** j, f)),
    f <= 18 ? 33 : 64,
  );
  // α/2 = 4^-(LO+1)/2 − Σ b_j·(4^-j − 4^-(j+1))/2 ;  β = 2^-(LO+1) − Σ b_j·2^-(j+1)
  const halfAlpha = bitSum(
    e,
    bits,
    fx(4 ** -(LO + 1) / 2, f),
    js.map((j) => -fx((4 ** -j - 4 ** -(j + 1)) / 2, f)),
  );
  const beta = bitSum(
    e,
    bits,
    fx(2 ** -(LO + 1), f),
    js.map((j) => -fx(2 ** -(j + 1), f)),
  );
  const r = await e.mulFixed(e.concat([x, x]), e.concat([halfAlpha, beta]));
  const h = e.slice(r, 0, n); // z/2
  const xbeta = e.slice(r, n, 2 * n);
  let w = e.addPublic(e.mulScalar(h, -2n), fill(n, fx(2, f)));
  const c15 = e.constant(fill(n, fx(1.5, f)));
  for (let i = 0; i < 3; i++) {
    const a = await e.mulFixed(e.concat([w, h, w]), e.concat([w, w, c15]));
    const c = await e.mulFixed(e.slice(a, 0, n), e.slice(a, n, 2 * n));
    w = e.sub(e.slice(a, 2 * n, 3 * n), c);
  }
  return { w, beta, xbeta };
}

export async function rsqrt<S>(e: Engine<S>, x: S): Promise<S> {
  const { w, beta } = await core(e, x);
  return e.mulFixed(w, beta);
}

export async function sqrt<S>(e: Engine<S>, x: S): Promise<S> {
  const { w, xbeta } = await core(e, x);
  return e.mulFixed(w, xbeta);
}
