/**
 * Fixed-point truncation for n-party additive shares: probabilistic truncation with a mask no single
 * compute party knows, after [DEK20 §4] with the mask's top-bit correction (the variant rep3 uses,
 * src/protocols/rep3/trunc.ts), chosen because of [Orca].
 *
 * Why not local truncation. SecureML's local share truncation is wrong with probability ~2^(ℓx+1−64)
 * per element (a carry across the shares' wrap-around gives an error of 2^(64−f)), and — as [Orca]
 * shows — its rounding direction, like that of other "stochastic" variants, is a function of one
 * party's share, so once a result is opened that party learns a comparison on the secret's low bits.
 * Here the rounding is decided by the low f bits of a mask r drawn from preprocessing (by the dealer,
 * or jointly from every party's random bits through OT), which no single compute party knows.
 *
 * Online (one round, 8 bytes per element to each peer): open c = x + 2^62 + r, with r = 2^63·m + r',
 * r' < 2^63, then with e = msb(c) ⊕ m:
 *   y = ⌊(c mod 2^63) / 2^f⌋ − ⌊r'/2^f⌋ + e·2^(63−f) − 2^(62−f)
 *     = (c ≫ f) − 2^(62−f) − ⌊r'/2^f⌋ + 2^(63−f)·(1 − 2·msb(c))·m.
 * Result: ⌊x/2^f⌋ + b with b ∈ {0,1} equal to 1 with probability exactly frac(x/2^f) over r — ideal
 * stochastic rounding, |y − x/2^f| < 1 ulp, for every |x| < 2^62. There is no failure event inside
 * that range (failure probability 0); outside it the result is wrong (see docs/numerics.md).
 * Offline per element: one truncation pair (r, ⌊r'/2^f⌋, m).
 * Security: semi-honest, dishonest majority: c is uniformly masked by r.
 */
import type { OpScope } from '../channel.js';
import { shrLogical } from '../../math/ring.js';
import { ShareholdError } from '../../errors.js';
import type { AddA } from '../../sharing/additive/additive.js';
import type { AddCtx } from './context.js';
import { openA } from './open.js';
import type { TruncPairs } from './prep.js';

const TWO62 = 1n << 62n;

/** Local finish: my share of y from the opened c and my share of the pair. */
export function finishTrunc(me: number, c: BigUint64Array, t: TruncPairs): BigUint64Array {
  const n = c.length;
  const top = 1n << BigInt(63 - t.f);
  const negTop = BigInt.asUintN(64, -top);
  const bias = 1n << BigInt(62 - t.f);
  const cu = new Uint32Array(c.buffer, c.byteOffset, 2 * n);
  const coef = new BigUint64Array(n);
  for (let i = 0; i < n; i++) coef[i] = cu[2 * i + 1]! >>> 31 ? negTop : top;
  const y = new BigUint64Array(n);
  const m = t.m;
  const h = t.rh;
  for (let i = 0; i < n; i++) y[i] = coef[i]! * m[i]! - h[i]!;
  if (me === 0) {
    const pub = shrLogical(c, t.f);
    for (let i = 0; i < n; i++) y[i] = y[i]! + pub[i]! - bias;
  }
  return y;
}

/** ⌊x / 2^f⌋ with ideal stochastic rounding; requires |x| < 2^62. One round. */
export async function truncA(
  ctx: AddCtx,
  scope: OpScope,
  x: AddA,
  pairs: Promise<TruncPairs>,
): Promise<AddA> {
  const n = x.v.length;
  const t = await pairs;
  if (t.r.length < n)
    throw new ShareholdError('prep-exhausted', `need ${n} truncation pairs, have ${t.r.length}`);
  const masked = new BigUint64Array(n);
  for (let i = 0; i < n; i++) masked[i] = x.v[i]! + t.r[i]!;
  if (ctx.me === 0) for (let i = 0; i < n; i++) masked[i] = masked[i]! + TWO62;
  const [c] = await openA(ctx, scope, [masked]);
  return { v: finishTrunc(ctx.me, c!, t) };
}
