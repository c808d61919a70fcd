/**
 * Shamir t-of-n secret sharing over F_p (p = 2^127 − 1), local math only: party i holds f(α_i) with
 * α_i = i + 1 for a polynomial f of degree ≤ d (d = t for ordinary shares, 2t for products before
 * degree reduction) with f(0) = the secret. Any d + 1 shares determine the secret; any d reveal
 * nothing. Coefficient vectors (Lagrange weights) are computed with BigInt once per party set and
 * cached; the per-element work is one field matrix product (src/math/field.ts).
 *
 * A share vector is an `Fp` (one field element per secret element).
 */
import * as F from '../../math/field.js';
import type { Fp } from '../../math/field.js';
import type { Prg } from '../../math/prg.js';
import { invalidArgument } from '../../errors.js';

/** Largest supported party count (evaluation points 1..MAX_PARTIES). */
export const MAX_PARTIES = 64;

/** Evaluation point of party i. */
export function alpha(i: number): bigint {
  return BigInt(i + 1);
}

const cache = new Map<string, bigint[]>();

/**
 * Lagrange weights w_j such that f(x) = Σ_j w_j·f(α_{parties[j]}) for every polynomial of degree
 * < parties.length. `x` is a field point (0 for the secret).
 */
export function lagrange(parties: readonly number[], x: bigint = 0n): bigint[] {
  const key = `${parties.join(',')}@${x}`;
  const hit = cache.get(key);
  if (hit) return hit;
  if (new Set(parties).size !== parties.length)
    throw invalidArgument(`repeated party in ${parties.join(',')}`);
  const xs = parties.map(alpha);
  const w = xs.map((xj, j) => {
    let num = 1n;
    let den = 1n;
    xs.forEach((xm, m) => {
      if (m === j) return;
      num = (num * F.modP(x - xm)) % F.P;
      den = (den * F.modP(xj - xm)) % F.P;
    });
    return (num * F.invP(den)) % F.P;
  });
  if (cache.size > 4096) cache.clear();
  cache.set(key, w);
  return w;
}

/**
 * Shares of `secret` (n elements each) for parties 0..parties−1 under fresh random polynomials of
 * degree d (coefficients from `prg`). Reference dealer for tests and for local use by an input owner.
 */
export function share(secret: Fp, d: number, parties: number, prg: Prg): Fp[] {
  checkParams(d, parties);
  const n = F.fpLen(secret);
  const coeffs = [secret];
  for (let k = 1; k <= d; k++) coeffs.push(F.random(prg, n));
  // share_i = Σ_k coeff_k · α_i^k: one matrix product (parties × (d+1)) · ((d+1) × n)
  const vand: bigint[][] = [];
  for (let i = 0; i < parties; i++) {
    const row: bigint[] = [];
    let p = 1n;
    for (let k = 0; k <= d; k++) {
      row.push(p);
      p = (p * alpha(i)) % F.P;
    }
    vand.push(row);
  }
  return F.lincombs(vand, coeffs);
}

/** The secret from the shares of `parties` (at least d + 1 of them; exactly d + 1 are used). */
export function reconstruct(shares: readonly Fp[], parties: readonly number[], d: number): Fp {
  if (shares.length !== parties.length) throw invalidArgument('reconstruct: one share vector per party');
  if (parties.length < d + 1)
    throw invalidArgument(`reconstruct: degree ${d} needs ${d + 1} shares, got ${parties.length}`);
  const use = parties.slice(0, d + 1);
  return F.lincomb(lagrange(use), shares.slice(0, d + 1));
}

/** Evaluate the degree-≤d polynomial through the first d + 1 shares at the points of `targets`. */
export function extend(
  shares: readonly Fp[],
  parties: readonly number[],
  d: number,
  targets: readonly number[],
): Fp[] {
  const use = parties.slice(0, d + 1);
  return F.lincombs(
    targets.map((p) => lagrange(use, alpha(p))),
    shares.slice(0, d + 1),
  );
}

/**
 * Degree check: true when all the given shares lie on one polynomial of degree ≤ d (needs more than
 * d + 1 shares to say anything). Used by tests and to validate redundant openings.
 */
export function checkDegree(shares: readonly Fp[], parties: readonly number[], d: number): boolean {
  if (parties.length <= d + 1) return true;
  const rest = parties.slice(d + 1);
  const predicted = extend(shares, parties, d, rest);
  return rest.every((_, k) => F.equal(predicted[k]!, shares[d + 1 + k]!));
}

/** Shamir parameters must satisfy 2 ≤ n ≤ MAX_PARTIES and 0 ≤ d < n. */
function checkParams(d: number, parties: number): void {
  if (!Number.isInteger(parties) || parties < 1 || parties > MAX_PARTIES)
    throw invalidArgument(`party count ${parties} outside 1..${MAX_PARTIES}`);
  if (!Number.isInteger(d) || d < 0 || d >= parties)
    throw invalidArgument(`a degree-${d} sharing needs more than ${d} parties, got ${parties}`);
}
