/**
 * Conversions between an n-party additive sharing over Z_2^64 (party i holds a_i, Σ a_i = x mod 2^64,
 * x read as a signed 64-bit integer) and a Shamir t-of-n sharing of x over F_p (p = 2^127 − 1).
 * An additive sharing is n-out-of-n, so both directions need every party: a gone party fails the
 * conversion with `quorum-missing`.
 *
 * Additive → Shamir. Every party secret-shares its a_i ∈ [0, 2^64) (one round, all inputs at once).
 * Their sum S = Σ a_i is an integer in [0, n·2^64) — the field does not wrap mod 2^64, so the wrap
 * count ⌊S/2^64⌋ must be removed securely: x = ((S + 2^63) mod 2^64) − 2^63, where the modular
 * reduction is [CdH10] Mod2m with m = 64: open c = S + 2^63 + R (statistical mask, 2^-κ) and
 * [S' mod 2^64] = c' − R' + 2^64·[c' < R'] with a 64-bit BitLT (compare.ts). Requires n ≤ 31 so that
 * S + 2^63 < 2^69. Cost per element: 1 + 7 rounds; 16·(n − 1 − t) bytes (input) + 16·(n − 1)·121
 * bytes per party, one comparison mask (64 random bits) and 120 double sharings offline. This is the
 * price of the wrap: it is a comparison.
 *
 * Shamir → additive. With S = {0, …, t}, x = Σ_{i∈S} λ_i·x_i over F_p (Lagrange at 0), an additive
 * sharing mod p among t + 1 parties. To move it to Z_2^64 without leaking the wrap, party i ∈ S sends
 * v_i = λ_i·x_i + ρ_i to party 0 (ρ_i uniform in [0, 2^(64+κ)), party 0 adds 2^63), so party 0 learns
 * c = x + 2^63 + Σρ_i exactly as an integer (< p): x is hidden by the honest ρ's with statistical
 * distance 2^-κ. Party 0 keeps (c − ρ_0 − 2^63) mod 2^64, other parties in S keep −ρ_i mod 2^64, the
 * rest 0; a zero-sum from pairwise PRG keys then re-randomizes all n shares. Cost: 1 round, 16 bytes
 * per element from each of t parties to party 0. Requires |x| < 2^63.
 * Security: semi-honest, honest majority among the Shamir parties.
 */
import * as F from '../../math/field.js';
import { lagrange } from '../../sharing/shamir/shamir.js';
import { invalidArgument } from '../../errors.js';
import { aliveAll, pairPrg, quorumError, round } from './context.js';
import { input } from './reveal.js';
import { mod2m64, bitLtMults } from './compare.js';
import type { ShamirSession, ShamirShare } from './session.js';

function requireAll(s: ShamirSession, what: string): void {
  const alive = aliveAll(s.ctx);
  if (alive.length < s.n) {
    const missing = [...Array(s.n).keys()].filter((p) => !alive.includes(p));
    throw quorumError(s.ctx, what, s.n, alive.length, missing, false);
  }
}

/** This party's additive share `mine` (len words) → its Shamir share of x = Σ shares mod 2^64 (signed). */
export async function additiveToShamir(s: ShamirSession, mine: BigUint64Array): Promise<ShamirShare> {
  const len = mine.length;
  if (s.n > 31) throw invalidArgument(`additive → Shamir supports at most 31 parties, got ${s.n}`);
  requireAll(s, 'an additive → Shamir conversion (every summand is needed)');
  const scope = s.op('a2s');
  const ids = [...Array(s.n).keys()].map((p) => scope.child(`in${p}`).id);
  const mat = s.reserve(len, len * bitLtMults(64));
  const parts = await Promise.all(
    ids.map((id, p) => input(s.ctx, id, p, p === s.me ? F.fromUnsigned(mine) : null, len)),
  );
  let sum = parts[0]!;
  for (let p = 1; p < parts.length; p++) sum = F.add(sum, parts[p]!, sum);
  const shifted = F.addScalar(sum, 1n << 63n, sum);
  const red = await mod2m64(s.ctx, scope.child('mod'), shifted, await mat.masks, await mat.doubles);
  return { sh: F.sub(red, F.filled(len, 1n << 63n), red) };
}

/** This party's Shamir share → its additive share over Z_2^64 of the signed value x. */
export async function shamirToAdditive(s: ShamirSession, x: ShamirShare): Promise<BigUint64Array> {
  requireAll(s, 'a Shamir → additive conversion (every party receives a summand)');
  const ctx = s.ctx;
  const len = F.fpLen(x.sh);
  const scope = s.op('s2a');
  const id = scope.id;
  const set = [...Array(ctx.t + 1).keys()];
  const out = new BigUint64Array(len);
  if (ctx.me <= ctx.t) {
    const lam = lagrange(set)[ctx.me]!;
    const rho = F.randomBounded(pairPrg(ctx, ctx.me, id, 'rho'), len, 64 + s.kappa);
    let v = F.add(F.mulScalar(x.sh, lam), rho);
    if (ctx.me === 0) {
      v = F.addScalar(v, 1n << 63n, v);
      const got = await round(ctx, id, new Map(), [], set, ctx.t, 'a Shamir → additive conversion');
      for (const [p, b] of got) v = F.add(v, F.fromBytes(b, len, p), v);
      // c is exact (< p): keep (c − ρ_0 − 2^63) mod 2^64
      const c = F.lowWords(v);
      const r = F.lowWords(rho);
      for (let i = 0; i < len; i++) out[i] = c[i]! - r[i]! - (1n << 63n);
    } else {
      await round(ctx, id, new Map([[0, F.toBytes(v)]]), [0], [], 0, 'a Shamir → additive conversion');
      const r = F.lowWords(rho);
      for (let i = 0; i < len; i++) out[i] = -r[i]!;
    }
  } else ctx.ch.countRound();
  // re-randomize: + PRG(k_ij) for i < j, − for i > j (sums to zero)
  for (let j = 0; j < ctx.n; j++) {
    if (j === ctx.me) continue;
    const z = pairPrg(ctx, j, id, `zero${Math.min(j, ctx.me)}-${Math.max(j, ctx.me)}`).ring(len);
    if (ctx.me < j) for (let i = 0; i < len; i++) out[i] = out[i]! + z[i]!;
    else for (let i = 0; i < len; i++) out[i] = out[i]! - z[i]!;
  }
  return out;
}

/** For tests: an additive sharing of signed values (party shares summing to x mod 2^64). */
export function splitAdditive(
  x: BigUint64Array,
  n: number,
  rand: (len: number) => BigUint64Array,
): BigUint64Array[] {
  const shares: BigUint64Array[] = [];
  const last = x.slice();
  for (let p = 0; p < n - 1; p++) {
    const r = rand(x.length);
    for (let i = 0; i < x.length; i++) last[i] = last[i]! - r[i]!;
    shares.push(r);
  }
  shares.push(last);
  return shares;
}
