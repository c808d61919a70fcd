/**
 * The 3-piece sigmoid's selection in one round, after a hinted comparison (sign-hint.ts).
 *
 * σ₃(x) = 0 for x < −1/2, x + 1/2 on [−1/2, 1/2], 1 above (MP-SPDZ's `approx_sigmoid`, n = 3). The
 * training loss needs c·(σ₃(x) − y) = m·c·(x + 1/2) + b·c − c·y with A = [x + 1/2 < 0],
 * B = [1/2 − x < 0] (exclusive) and m = 1 − A − B = ¬(A ⊕ B), a local function of the binary bits.
 * Instead of injecting A and B (one round) and then multiplying m by v = ĉ·(x + 1/2) with a truncation
 * (one more), one round does both, with daBits r_m, r_b and truncation triples:
 *   - open e_m = m ⊕ r_m and e_b = B ⊕ r_b (one bit each per element, to the next party);
 *   - open, masked for truncation [DEK20] (trunc.ts), the 3-out-of-3 shares of d₀ = v·r_m and
 *     d₁ = v − v·r_m (local products with the arithmetic daBit) — to both other parties.
 * Then m·v = e_m ? d₁ : d₀ (m = 1 − r_m when e_m = 1, r_m when e_m = 0), so trunc(m·v) is the
 * truncation of the selected one (one truncation error, ≤ 1 ulp, the same as the two-round version),
 * and [B] = e_b + r_b − 2·e_b·r_b locally, exactly as in a daBit bit injection [EGK+20 §4].
 * Security (semi-honest, honest majority): e_m and e_b are one-time-padded by daBits no party knows;
 * d₀ and d₁ are opened only as c = d + 2^62 + r with a uniform truncation mask r and a fresh zero
 * sharing, exactly as a truncation opens its input; nothing else is sent.
 * Rounds: 1 (vs 2). Bytes per element per party: 2 bits + 4 ring elements (two openings to two
 * parties), against 1/4 bit·2 + 8 (injection) + 16 (mulFixed's opening).
 */
import { exchange, type OpScope } from '../channel.js';
import type { Rep3A } from '../../sharing/replicated/rep3.js';
import { asBytes, fromBytes } from '../../math/ring.js';
import { wordsPerPlane } from '../../math/bits.js';
import { ShareholdError, invalidArgument } from '../../errors.js';
import type { Rep3Ctx } from './context.js';
import { bitsToRing, flipInto, type DaBits } from './b2a.js';
import { mulLocal } from './mul.js';
import { finishTrunc, maskForOpen, sum3Into, type TruncTriples } from './trunc.js';
import { msbHinted, type SignHint } from './sign-hint.js';

export interface Piecewise3Parts {
  /** ⌊m·v / 2^f⌋, m = [−1/2 ≤ x ≤ 1/2]. */
  readonly mv: Rep3A;
  /** [x > 1/2] as 0/1. */
  readonly b: Rep3A;
}

/**
 * For a hinted x (fixed point, f bits) and v = ĉ·(x + 1/2) at scale 2f (any replicated sharing):
 * trunc(m·v) and [x > 1/2], from the carry trees and one more round. `width` as for `msbHinted`
 * (the caller guarantees |x| + 1/2 < 2^(width−1) in ring units).
 */
export async function piecewise3Select(
  ctx: Rep3Ctx,
  scope: OpScope,
  h: SignHint,
  v: Rep3A,
  width: number,
  daM: DaBits,
  daB: DaBits,
  t: TruncTriples,
): Promise<Piecewise3Parts> {
  const n = v.a.length;
  if (h.hb.n !== n || daM.bin.n < n || daB.bin.n < n || t.r.a.length < 2 * n)
    throw invalidArgument('piecewise3Select: hint, daBits and 2n truncation triples for n elements');
  const half = 1n << BigInt(h.f - 1);
  const [A, B] = await msbHinted(
    ctx,
    scope.child('msbh'),
    h,
    [
      { neg: false, add: half },
      { neg: true, add: half },
    ],
    width,
  );
  const W = wordsPerPlane(n);
  // e = (¬(A ⊕ B) ⊕ r_m, B ⊕ r_b), this party's component a (the opening sends `a` to the next)
  const masked = new Uint32Array(2 * W);
  const maskedB = new Uint32Array(2 * W);
  maskBits(ctx.me, masked, maskedB, A!, B!, daM, daB, W);
  // 3-out-of-3 shares of d₀ = v·r_m and d₁ = v − d₀, masked for the truncating opening
  const d0 = mulLocal(v, daM.arith);
  const z = new BigUint64Array(2 * n);
  z.set(d0, 0);
  subInto(z, n, v.a, d0);
  const d = maskForOpen(ctx, scope.child('open'), z, t);
  const db = asBytes(d);
  const toNext = new Uint8Array(2 * W * 4 + db.byteLength);
  toNext.set(new Uint8Array(masked.buffer), 0);
  toNext.set(db, 2 * W * 4);
  const [fromPrev, fromNext] = await exchange(
    ctx.ch,
    scope.child('sel').id,
    [
      [ctx.next, toNext],
      [ctx.prev, db],
    ],
    [ctx.prev, ctx.next],
  );
  if (fromPrev!.byteLength !== toNext.byteLength || fromNext!.byteLength !== db.byteLength)
    throw new ShareholdError(
      'frame-malformed',
      `piecewise3: parties ${ctx.prev}/${ctx.next} sent ${fromPrev!.byteLength}/${fromNext!.byteLength} bytes, expected ${toNext.byteLength}/${db.byteLength}`,
    );
  const g = fromPrev!.slice();
  const eBits = new Uint32Array(g.buffer, 0, 2 * W);
  const dPrev = fromBytes(g.subarray(2 * W * 4));
  // summed into the received payload (this party's own buffer once delivered; copied if unaligned)
  const dNext = fromBytes(fromNext!);
  const c = sum3Into(dNext, dPrev, d, dNext);
  const y = finishTrunc(ctx.me, c, t);
  // the opened bits e = (my a) ⊕ (my b) ⊕ (prev's a), planes e_m then e_b
  const e = xor3(masked, maskedB, eBits);
  const em = bitsToRing(e.subarray(0, W), n);
  const eb = bitsToRing(e.subarray(W), n);
  const mv = pick(em, y, n);
  // [B] = e_b + r_b − 2·e_b·r_b, the public e_b on component 0 (party 0's a, party 2's b)
  const b: Rep3A = { a: new BigUint64Array(n), b: new BigUint64Array(n) };
  flipInto(b.a, eb, daB.arith.a, ctx.me === 0 ? 1n : 0n);
  flipInto(b.b, eb, daB.arith.b, ctx.me === 2 ? 1n : 0n);
  return { mv, b };
}

function maskBits(
  me: number,
  ma: Uint32Array,
  mb: Uint32Array,
  A: { a: Uint32Array; b: Uint32Array },
  B: { a: Uint32Array; b: Uint32Array },
  daM: DaBits,
  daB: DaBits,
  W: number,
): void {
  // ¬ on component 0 only (party 0's a, party 2's b)
  const na = me === 0 ? 0xffffffff : 0;
  const nb = me === 2 ? 0xffffffff : 0;
  for (let i = 0; i < W; i++) {
    ma[i] = (A.a[i]! ^ B.a[i]! ^ na ^ daM.bin.a[i]!) >>> 0;
    mb[i] = (A.b[i]! ^ B.b[i]! ^ nb ^ daM.bin.b[i]!) >>> 0;
    ma[W + i] = B.a[i]! ^ daB.bin.a[i]!;
    mb[W + i] = B.b[i]! ^ daB.bin.b[i]!;
  }
}

/** x ⊕ y ⊕ z word-wise (a new array of x's length). */
function xor3(x: Uint32Array, y: Uint32Array, z: Uint32Array): Uint32Array {
  const o = new Uint32Array(x.length);
  for (let i = 0; i < o.length; i++) o[i] = x[i]! ^ y[i]! ^ z[i]!;
  return o;
}

function subInto(z: BigUint64Array, o: number, x: BigUint64Array, y: BigUint64Array): void {
  const n = y.length;
  for (let i = 0; i < n; i++) z[o + i] = x[i]! - y[i]!;
}

/** e ? y[n + i] : y[i], on both components. */
function pick(e: BigUint64Array, y: Rep3A, n: number): Rep3A {
  const a = new BigUint64Array(n);
  const b = new BigUint64Array(n);
  pickInto(a, e, y.a, n);
  pickInto(b, e, y.b, n);
  return { a, b };
}

function pickInto(o: BigUint64Array, e: BigUint64Array, y: BigUint64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const y0 = y[i]!;
    o[i] = y0 + e[i]! * (y[n + i]! - y0);
  }
}
