/**
 * Comparisons for 2-of-3 replicated shares [ABY3 §5.3]: the sign bit via a log-depth carry tree on
 * binary shares (`msbBinary`), then bit injection back to arithmetic.
 *
 * ltz(x) = [x < 0] for x read as a signed 64-bit value. Rounds: 1 (carry-save) + 1 (generate) + 6
 * (carry tree) + 1 (bit injection with a preprocessed daBit) = 9. Bytes per element per party ≈ 31
 * (binary) + 1/8 (opening the masked bit). Without daBits the injection takes 2 rounds and 16 B.
 * The daBits (offline, 2 rounds and 16 B per bit) come from a `DaBitSource`, usually the session's pool.
 * lt(x, y) = ltz(x − y), valid when |x − y| < 2^63.
 * eq(x, y) = 1 − ltz(x − y) − ltz(y − x): the two sign tests run as one batch (same rounds).
 * relu(x) = x · (1 − ltz(x)). With daBits the product is fused with the bit injection: the sign bit s
 * is masked by a daBit r (c = s ⊕ r) and, in the same message round, w = x·[r]^A is re-shared; since
 * x·(1 − s) = x − w when c = 0 and w when c = 1, y and d = 1 − s are then local: 1 + 1 + 6 + 1 = 9
 * rounds (10 without daBits). Bytes per element per party: the comparison's plus 8 (w) — the same as
 * injection followed by a multiplication. drelu = 1 − ltz.
 * `bits` = k < 64 (ltz, drelu, relu): the caller guarantees |x| < 2^(k−1) as a signed ring value
 * (e.g. from a RangeTracker bound); the sign is then read from k bits: the carry tree is
 * ⌈log2(k−2)⌉ levels (5 instead of 6 for k ≤ 34) and the AND rounds move k/64 of the bytes.
 * Security: semi-honest, honest majority.
 */
import type { OpScope } from '../channel.js';
import type { Rep3A, Rep3B } from '../../sharing/replicated/rep3.js';
import { addScalarA, concatA, negA, sliceA, subA } from '../../sharing/replicated/rep3.js';
import type { Rep3Ctx } from './context.js';
import { msbBinary } from './a2b.js';
import { concatBits, msbHinted, signHintOf, type SignTerm } from './sign-hint.js';
import { bitInject, bitInjectDa, type DaBits } from './b2a.js';
import { mulA, mulLocal } from './mul.js';
import { addZeroA } from './context.js';
import { wordsPerPlane } from '../../math/bits.js';
import { asBytes, fromBytes } from '../../math/ring.js';
import { exchange } from '../channel.js';
import { ShareholdError, invalidArgument } from '../../errors.js';

/**
 * The sign of x as a one-plane binary sharing: from x's sign hint when it has one (a truncation's
 * output, sign-hint.ts: the carry tree only), else by `msbBinary`.
 */
async function signBit(ctx: Rep3Ctx, scope: OpScope, x: Rep3A, width: number): Promise<Rep3B> {
  const h = signHintOf(x);
  if (h) {
    const [b] = await msbHinted(ctx, scope.child('msbh'), h, [{ neg: false, add: 0n }], width);
    return b!;
  }
  return msbBinary(ctx, scope.child('msb'), x, width);
}

/**
 * [v < 0] for the affine forms v = ±x + t of one value, concatenated (term by term, n each). With a
 * sign hint on x the trees read the truncation's opened value (sign-hint.ts); otherwise one `ltz` on
 * the concatenation. `width` as for `ltz`, for every term.
 */
export async function ltzAffine(
  ctx: Rep3Ctx,
  scope: OpScope,
  x: Rep3A,
  terms: readonly SignTerm[],
  da: DaBitSource = null,
  width = 64,
): Promise<Rep3A> {
  const h = signHintOf(x);
  if (!h) {
    const forms = terms.map((t) => addScalarA(ctx.me, t.neg ? negA(x) : x, t.add));
    return ltz(ctx, scope, concatA(forms), da, width);
  }
  const n = x.a.length;
  const N = n * terms.length;
  const bits = da ? await da(N) : null;
  const parts = await msbHinted(ctx, scope.child('msbh'), h, terms, width);
  const cat: Rep3B = {
    n: N,
    w: 1,
    a: concatBits(
      parts.map((p) => p.a),
      n,
    ),
    b: concatBits(
      parts.map((p) => p.b),
      n,
    ),
  };
  return bits ? bitInjectDa(ctx, scope.child('inj'), cat, bits) : bitInject(ctx, scope.child('inj'), cat);
}

/** Supplies n preprocessed daBits (or null to inject without preprocessing). */
export type DaBitSource = ((n: number) => Promise<DaBits>) | null;

/** [x < 0] as an arithmetic 0/1 sharing. */
export async function ltz(
  ctx: Rep3Ctx,
  scope: OpScope,
  x: Rep3A,
  da: DaBitSource = null,
  width = 64,
): Promise<Rep3A> {
  const bits = da ? await da(x.a.length) : null;
  const bit = await signBit(ctx, scope, x, width);
  return bits ? bitInjectDa(ctx, scope.child('inj'), bit, bits) : bitInject(ctx, scope.child('inj'), bit);
}

/** [x < y]. */
export async function lt(
  ctx: Rep3Ctx,
  scope: OpScope,
  x: Rep3A,
  y: Rep3A,
  da: DaBitSource = null,
): Promise<Rep3A> {
  return ltz(ctx, scope, subA(x, y), da);
}

/** [x = y]. */
export async function eq(
  ctx: Rep3Ctx,
  scope: OpScope,
  x: Rep3A,
  y: Rep3A,
  da: DaBitSource = null,
): Promise<Rep3A> {
  const n = x.a.length;
  const d = subA(x, y);
  const both = await ltz(ctx, scope, concatA([d, negA(d)]), da);
  const s = subA(sliceA(both, 0, n), negA(sliceA(both, n, 2 * n)));
  // 1 − (lt + gt)
  return addScalarA(ctx.me, negA(s), 1n);
}

/** ReLU derivative [x ≥ 0]. */
export async function drelu(
  ctx: Rep3Ctx,
  scope: OpScope,
  x: Rep3A,
  da: DaBitSource = null,
  width = 64,
): Promise<Rep3A> {
  const l = await ltz(ctx, scope, x, da, width);
  return addScalarA(ctx.me, negA(l), 1n);
}

/** max(x, 0); also returns the derivative bit, which backpropagation needs. */
export async function relu(
  ctx: Rep3Ctx,
  scope: OpScope,
  x: Rep3A,
  da: DaBitSource = null,
  width = 64,
): Promise<{ y: Rep3A; d: Rep3A }> {
  if (!da) {
    const d = await drelu(ctx, scope.child('d'), x, da, width);
    const y = await mulA(ctx, scope.child('mul'), x, d);
    return { y, d };
  }
  const n = x.a.length;
  const r = await da(n);
  const sign = await signBit(ctx, scope, x, width);
  if (r.bin.n < n) throw invalidArgument('relu: not enough daBits');
  // one round: c = sign ⊕ r opened to all (my component to the next party), and the 3-out-of-3
  // share of w = x·[r]^A re-shared (to the previous party)
  const W = wordsPerPlane(n);
  const masked = new Uint32Array(W);
  const maskedB = new Uint32Array(W);
  for (let i = 0; i < W; i++) {
    masked[i] = sign.a[i]! ^ r.bin.a[i]!;
    maskedB[i] = sign.b[i]! ^ r.bin.b[i]!;
  }
  const z = mulLocal(x, r.arith);
  addZeroA(ctx, scope.child('w').id, z);
  const [fromPrev, fromNext] = await exchange(
    ctx.ch,
    scope.child('fused').id,
    [
      [ctx.next, new Uint8Array(masked.buffer)],
      [ctx.prev, asBytes(z)],
    ],
    [ctx.prev, ctx.next],
  );
  if (fromPrev!.byteLength !== W * 4 || fromNext!.byteLength !== n * 8)
    throw new ShareholdError(
      'frame-malformed',
      `relu: parties ${ctx.prev}/${ctx.next} sent ${fromPrev!.byteLength}/${fromNext!.byteLength} bytes, expected ${W * 4}/${n * 8}`,
    );
  const g = fromPrev!;
  const m = new Uint32Array(g.buffer.slice(g.byteOffset, g.byteOffset + g.byteLength));
  const wb = fromBytes(fromNext!);
  return fusedSelect(ctx.me, n, masked, maskedB, m, x.a, x.b, z, wb, r.arith.a, r.arith.b);
}

/** A reusable buffer for the selection mask (filled and consumed synchronously, never returned). */
let maskScratch = new BigUint64Array(0);

/**
 * The opened bits c as a ring mask (all ones where c = 1, else 0), in a buffer reused across calls:
 * valid until the next call. Written on the 32-bit halves (no BigInt per element).
 */
function bitMask(c: Uint32Array, n: number): BigUint64Array {
  if (maskScratch.length < n) maskScratch = new BigUint64Array(n);
  const m = maskScratch.subarray(0, n);
  maskHalves(new Int32Array(m.buffer, m.byteOffset, 2 * n), c, n);
  return m;
}

function maskHalves(h: Int32Array, c: Uint32Array, n: number): void {
  const W = c.length;
  for (let w = 0; w < W; w++) {
    const bits = c[w]!;
    const end = Math.min(32, n - 32 * w);
    let j = 64 * w;
    for (let b = 0; b < end; b++, j += 2) {
      const v = -((bits >>> b) & 1);
      h[j] = v;
      h[j + 1] = v;
    }
  }
}

/**
 * The local end of the fused ReLU, in a parameter-only function so that V8 keeps the BigInt element
 * arithmetic native: c = 0 (sign = r): y = x − w, d = 1 − r; c = 1 (sign = 1 − r): y = w, d = r.
 * d is computed on first access (inference reads only y; training reads both): the same values,
 * from the same opened bits and daBits, whenever it is read.
 */
function fusedSelect(
  me: number,
  n: number,
  ma: Uint32Array,
  mb: Uint32Array,
  mc: Uint32Array,
  xa: BigUint64Array,
  xb: BigUint64Array,
  wa: BigUint64Array,
  wb: BigUint64Array,
  ra: BigUint64Array,
  rb: BigUint64Array,
): { y: Rep3A; d: Rep3A } {
  const W = ma.length;
  const c = new Uint32Array(W);
  for (let w = 0; w < W; w++) c[w] = ma[w]! ^ mb[w]! ^ mc[w]!;
  const mask = bitMask(c, n);
  // y = x − w where c = 0, w where c = 1
  // (wb, received, is this party's own buffer: y's b component is selected in place there; wa was
  // sent and is not modified)
  const ya = new BigUint64Array(n);
  selectInto(ya, mask, xa, wa);
  selectInto(wb, mask, xb, wb);
  const yb = wb;
  let d: Rep3A | undefined;
  return {
    y: { a: ya, b: yb },
    get d(): Rep3A {
      return (d ??= reluDerivative(me, n, c, ra, rb));
    },
  };
}

/** d = 1 − r where c = 0, r where c = 1, the public 1 on component 0 (party 0's a, party 2's b). */
function reluDerivative(
  me: number,
  n: number,
  c: Uint32Array,
  ra: BigUint64Array,
  rb: BigUint64Array,
): Rep3A {
  const mask = bitMask(c, n);
  const da = new BigUint64Array(n);
  const db = new BigUint64Array(n);
  selectOne(da, mask, ra, me === 0 ? 1n : 0n);
  selectOne(db, mask, rb, me === 2 ? 1n : 0n);
  return { a: da, b: db };
}

/** o = t ⊕ ((t ⊕ w) ∧ m) with t = x − w: x − w where m = 0, w where m is all ones (o may alias w). */
function selectInto(o: BigUint64Array, m: BigUint64Array, x: BigUint64Array, w: BigUint64Array): void {
  const n = o.length;
  for (let i = 0; i < n; i++) {
    const wi = w[i]!;
    const t = x[i]! - wi;
    o[i] = t ^ ((t ^ wi) & m[i]!);
  }
}

/** o = t ⊕ ((t ⊕ r) ∧ m) with t = one − r: one − r where m = 0, r where m is all ones. */
function selectOne(o: BigUint64Array, m: BigUint64Array, r: BigUint64Array, one: bigint): void {
  const n = o.length;
  for (let i = 0; i < n; i++) {
    const ri = r[i]!;
    const t = one - ri;
    o[i] = t ^ ((t ^ ri) & m[i]!);
  }
}
