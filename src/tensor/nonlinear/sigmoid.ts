/**
 * sigmoid(x) = 1/(1 + e^−x).
 *
 * 'exact' (default) — the sign trick: one batched comparison gives s = [x < 0] and c = [|x| > 16];
 * a = min(|x|, 16) = x·(1 − 2s − c + 2[x < −16]) + 16c (one product, bits are integers), then
 * q = 1/(1 + e^−a) with 1 + e^−a ∈ (1, 2] so the reciprocal needs no normalization (Newton from
 * w0 = 2.9142 − 2z on z = (1 + e^−a)/2, then ×1/2), and σ(x) = q + s·(1 − 2q). Stable for every
 * input (e^−a ≤ 1 never overflows). Range: all representable x. Accuracy (f = 16, tested): absolute
 * error ≤ 5·10^-4 (typical measured max 1.3–2.5·10^-4 over [−40, 40]; stochastic truncation makes it
 * vary run to run; dominated by exp's relative error near a = 0). Rounds (rep3, online): 27 measured =
 * comparison + 1 + 8 (exp) + 1 (halving) + 7 (Newton, ×1/2) + 1.
 * CrypTen ([CrypTen] Knott et al. 2021) computes σ via its exp and reciprocal (error ≈ 10^-2 scale).
 *
 * 'piecewise3' — MP-SPDZ's 3-piece approximation (ml.py `approx_sigmoid`, n = 3; Keller, "MP-SPDZ: A
 * Versatile Framework for Multi-Party Computation", CCS 2020): 0 for x < −1/2, x + 1/2 on
 * [−1/2, 1/2], 1 above. One batched comparison + one product (10 rounds on rep3, 9 with a narrow
 * `width`); `piecewise3Residual` folds the loss's 1/B into that product. Max absolute error
 * 0.38 (at x = ±1/2) — a training-time surrogate, not an approximation of σ.
 */
import type { Engine } from '../../protocols/engine.js';
import { exp } from './exp.js';
import { newtonRecip } from './reciprocal.js';
import { constFx, fill, fx } from './util.js';

export type SigmoidMethod = 'exact' | 'piecewise3';

/**
 * `width` (< 64, rep3 only; ignored elsewhere and by 'exact'): the caller guarantees |x| + 1/2 <
 * 2^(width−1−f) (e.g. from a range-check bound on the logits); the 3-piece comparisons then read the
 * sign from `width` bits (rep3 `ltz`: 5 carry-tree levels instead of 6 for width ≤ 34, one round less).
 */
export async function sigmoid<S>(
  e: Engine<S>,
  x: S,
  method: SigmoidMethod = 'exact',
  width = 64,
): Promise<S> {
  return method === 'piecewise3' ? sigmoidPiecewise3(e, x, width) : sigmoidExact(e, x);
}

/** [v < 0], on rep3 from `width` bits when width < 64 (the caller guarantees |v| < 2^(width−1) ring units). */
async function ltzWidth<S>(e: Engine<S>, v: S, width: number): Promise<S> {
  if (width < 64 && e.scheme === 'rep3') {
    const narrow = e as unknown as { ltz(x: S, width: number): Promise<S> };
    return narrow.ltz(v, width);
  }
  return e.ltz(v);
}

/** a = [x < −1/2], b = [x > 1/2] (one batched comparison) and x + 1/2. */
async function pieces<S>(e: Engine<S>, x: S, width: number): Promise<{ a: S; b: S; lin: S }> {
  const n = e.length(x);
  const h = fill(n, fx(0.5, e.f));
  const lin = e.addPublic(x, h);
  const affine = e as unknown as {
    ltzAffine?: (x: S, terms: readonly { neg: boolean; add: bigint }[], width: number) => Promise<S>;
  };
  // rep3: [x + 1/2 < 0] and [1/2 − x < 0] straight from x (its sign hint, when x is a product's
  // truncated output: the carry trees only)
  const lt =
    e.scheme === 'rep3' && affine.ltzAffine
      ? await affine.ltzAffine(
          x,
          [
            { neg: false, add: fx(0.5, e.f) },
            { neg: true, add: fx(0.5, e.f) },
          ],
          width,
        )
      : await ltzWidth(e, e.concat([lin, e.addPublic(e.neg(x), h)]), width);
  return { a: e.slice(lt, 0, n), b: e.slice(lt, n, 2 * n), lin };
}

async function sigmoidExact<S>(e: Engine<S>, x: S): Promise<S> {
  const n = e.length(x);
  const f = e.f;
  const R = 16;
  const lt = await e.ltz(
    e.concat([x, e.addPublic(x, fill(n, fx(R, f))), e.addPublic(e.neg(x), fill(n, fx(R, f)))]),
  );
  const s = e.slice(lt, 0, n); // x < 0
  const lo = e.slice(lt, n, 2 * n); // x < −R
  const hi = e.slice(lt, 2 * n, 3 * n); // x > R
  const c = e.add(lo, hi);
  // g = 1 − 2s − c + 2·lo (integer); a = x·g + R·c
  const g = e.addPublic(e.sub(e.add(e.mulScalar(lo, 2n), e.neg(e.mulScalar(s, 2n))), c), fill(n, 1n));
  const a = e.add(await e.mul(x, g), e.mulScalar(c, fx(R, f)));
  const ea = await exp(e, e.neg(a));
  // z = (1 + e^−a)/2 ∈ (1/2, 1]: halve exactly via the half constant product folded into Newton's scale
  const z = await e.trunc(e.mulScalar(e.addPublic(ea, fill(n, fx(1, f))), 1n << BigInt(f - 1)));
  const q = await newtonRecip(e, z, constFx(e, n, 0.5));
  // σ = q + s·(1 − 2q)
  const t = await e.mul(s, e.addPublic(e.mulScalar(q, -2n), fill(n, fx(1, f))));
  return e.add(q, t);
}

async function sigmoidPiecewise3<S>(e: Engine<S>, x: S, width: number): Promise<S> {
  const { a, b, lin } = await pieces(e, x, width);
  // (1 − a − b)·(x + 1/2) + b
  const t = await e.mul(e.add(a, b), lin);
  return e.add(e.sub(lin, t), e.mulScalar(b, fx(1, e.f)));
}

/**
 * c·(σ₃(x) − y) for the 3-piece sigmoid σ₃, a public scale c (the loss's 1/B) and a secret target y
 * (fixed point), with the scale folded into the sigmoid's one product: with m = 1 − a − b (a 0/1
 * integer), σ₃(x) − y = m·(x + 1/2) + (b − y), and one fused product-and-truncation on the
 * concatenation [m·ĉ, b·2^f − y] ⊙ [x + 1/2, ĉ] (ĉ = round(c·2^f), the second factor a public
 * constant) gives both terms at once: one comparison + one round, instead of the comparison, the
 * product and a separate truncation round. Error ≤ 2 ulp (two truncations, summed) plus the encoding
 * of c (relative ≤ 2^-(f+1)/c; exact when 1/c is a power of two ≤ 2^f) — the same as σ₃ followed by
 * a scalar product by c.
 */
export async function piecewise3Residual<S>(e: Engine<S>, x: S, y: S, c: number, width = 64): Promise<S> {
  const n = e.length(x);
  const f = e.f;
  const ch = BigInt(Math.round(c * 2 ** f));
  const { a, b, lin } = await pieces(e, x, width);
  const m = e.addPublic(e.neg(e.add(a, b)), fill(n, 1n));
  const by = e.sub(e.mulScalar(b, fx(1, f)), y);
  const p = await e.mulFixed(e.concat([e.mulScalar(m, ch), by]), e.concat([lin, e.constant(fill(n, ch))]));
  return e.add(e.slice(p, 0, n), e.slice(p, n, 2 * n));
}

/**
 * c·(σ₃(x) − y) from yc = c·y prepared beforehand (fixed point): m·ĉ ⊙ (x + 1/2) by one fused
 * product-and-truncation (≤ 1 ulp), plus b·ĉ (exact, b a 0/1 integer), minus yc. One comparison + one
 * round and B truncations, the same as σ₃ alone. Error ≤ 1 ulp + yc's error + the encoding of c.
 */
export async function piecewise3ScaledResidual<S>(
  e: Engine<S>,
  x: S,
  yc: S,
  c: number,
  width = 64,
): Promise<S> {
  const n = e.length(x);
  const ch = BigInt(Math.round(c * 2 ** e.f));
  const fused = e as unknown as {
    piecewise3Scaled?: (x: S, ch: bigint, width: number) => Promise<{ mv: S; b: S } | null>;
  };
  if (e.scheme === 'rep3' && fused.piecewise3Scaled) {
    // rep3 with a sign hint on x: the comparison's trees, then selection and product in one round
    const r = await fused.piecewise3Scaled(x, ch, width);
    if (r) return e.sub(e.add(r.mv, e.mulScalar(r.b, ch)), yc);
  }
  const { a, b, lin } = await pieces(e, x, width);
  const m = e.addPublic(e.neg(e.add(a, b)), fill(n, 1n));
  const p = await e.mulFixed(e.mulScalar(m, ch), lin);
  return e.sub(e.add(p, e.mulScalar(b, ch)), yc);
}

/** tanh(x) = 2σ(2x) − 1 (absolute error twice σ's: ≤ 10^-3 tested, typical 3–4.5·10^-4; 27 rounds). */
export async function tanh<S>(e: Engine<S>, x: S, method: SigmoidMethod = 'exact'): Promise<S> {
  const n = e.length(x);
  const s = await sigmoid(e, e.mulScalar(x, 2n), method);
  return e.addPublic(e.mulScalar(s, 2n), fill(n, -fx(1, e.f)));
}
