/**
 * Fixed-point truncation for 2-of-3 replicated shares: probabilistic truncation with a jointly
 * random mask, after [DEK20 §4] (the variant with the mask's top bit), made safe per [Orca].
 *
 * Why this variant. [Orca] shows that the common stochastic truncations leak: in local share
 * truncation [SecureML] and in ABY3's Π_trunc1 the rounding direction is a function of shares that a
 * single party knows, so once the result is opened that party learns a comparison on the secret's
 * low bits. Here the rounding is decided by a mask r that NO single party knows (it is built from
 * PRSS randomness of all three keys and converted with a secure binary adder), so the output is
 * exactly the ideal stochastic rounding ⌊x/2^f⌋ + Bernoulli(frac(x/2^f)), and there is no large-error
 * event at all: correctness is deterministic for |x| < 2^62 (see docs/numerics.md).
 *
 * Online: open c = x + 2^62 + r (r = 2^63·m + r', r' < 2^63), then with e = msb(c) ⊕ m:
 *   y = ⌊c mod 2^63 / 2^f⌋ − ⌊r'/2^f⌋ + e·2^(63−f) − 2^(62−f).
 *   `trunc`: 1 round, 1 element per party.  `mulTrunc`/`matmulTrunc` fuse the product's 3-out-of-3
 *   re-sharing with the opening of c: 1 round, 2 elements per output per party.
 * Offline (`genTruncTriples`): ([r], [⌊r'/2^f⌋], [m]) from three batched b2a conversions of PRSS
 *   random bits: 9 rounds per batch, ~200 bytes per triple per party.
 * Security: semi-honest, honest majority.
 */
import { exchange, type OpScope } from '../channel.js';
import { asBytes, fromBytes, shrLogical } from '../../math/ring.js';
import { wordsPerPlane } from '../../math/bits.js';
import { ShareholdError, invalidArgument } from '../../errors.js';
import type { Rep3A, Rep3B } from '../../sharing/replicated/rep3.js';
import { randomB, zeroA, type Rep3Ctx } from './context.js';
import { b2a } from './b2a.js';
import { mulLocal, matmulLocal } from './mul.js';
import { revealA } from './reveal.js';

export interface TruncTriples {
  readonly f: number;
  /** [r], r uniform in Z_2^64. */
  readonly r: Rep3A;
  /** [⌊(r mod 2^63) / 2^f⌋]. */
  readonly rh: Rep3A;
  /** [msb(r)] as 0/1. */
  readonly m: Rep3A;
}

const TWO62 = 1n << 62n;

/** Generate n truncation triples for f fractional bits (offline phase, no dependence on inputs). */
export async function genTruncTriples(
  ctx: Rep3Ctx,
  scope: OpScope,
  n: number,
  f: number,
): Promise<TruncTriples> {
  if (!Number.isInteger(f) || f < 1 || f > 40) throw invalidArgument(`truncation bits f=${f} outside 1..40`);
  const W = wordsPerPlane(n);
  // 64 random planes (r); the three values to convert, stacked along elements in word-aligned blocks:
  //   block 0: r' = r with plane 63 cleared; block 1: ⌊r'/2^f⌋ = planes f..62 moved down; block 2: m = plane 63.
  const s = randomB(ctx, scope.id, n, 64, 64 * W, 'r');
  const N = 3 * W * 32;
  const WW = 3 * W;
  const stack = (src: Uint32Array): Uint32Array => {
    const o = new Uint32Array(64 * WW);
    for (let j = 0; j < 63; j++) o.set(src.subarray(j * W, (j + 1) * W), j * WW);
    for (let j = f; j < 63; j++) o.set(src.subarray(j * W, (j + 1) * W), (j - f) * WW + W);
    o.set(src.subarray(63 * W, 64 * W), 0 * WW + 2 * W);
    return o;
  };
  const x: Rep3B = { n: N, w: 64, a: stack(s.a), b: stack(s.b) };
  const y = await b2a(ctx, scope.child('b2a'), x);
  const part = (k: number): Rep3A => ({
    a: y.a.slice(k * W * 32, k * W * 32 + n),
    b: y.b.slice(k * W * 32, k * W * 32 + n),
  });
  const rLow = part(0);
  const rh = part(1);
  const m = part(2);
  const r: Rep3A = { a: new BigUint64Array(n), b: new BigUint64Array(n) };
  for (let i = 0; i < n; i++) {
    r.a[i] = rLow.a[i]! + (m.a[i]! << 63n);
    r.b[i] = rLow.b[i]! + (m.b[i]! << 63n);
  }
  return { f, r, rh, m };
}

/** Take triples [start, start+n) from a batch. */
export function sliceTriples(t: TruncTriples, start: number, end: number): TruncTriples {
  const s = (x: Rep3A): Rep3A => ({ a: x.a.subarray(start, end), b: x.b.subarray(start, end) });
  return { f: t.f, r: s(t.r), rh: s(t.rh), m: s(t.m) };
}

/**
 * Local finish: shares of y from the opened c and the triple. With e = msb(c) ⊕ m,
 * y = (c ≫ f) − 2^(62−f) − ⌊r'/2^f⌋ + 2^(63−f)·(1 − 2·msb(c))·m, since ⌊(c mod 2^63)/2^f⌋ + msb(c)·2^(63−f) = c ≫ f.
 * Written as simple element passes so V8 keeps every step native.
 */
export function finishTrunc(me: number, c: BigUint64Array, t: TruncTriples): Rep3A {
  const [a, b] = finishTruncParts(c, t.f, [t.m.a, t.m.b], [t.rh.a, t.rh.b], me === 0 ? 0 : me === 2 ? 1 : -1);
  return { a: a!, b: b! };
}

/**
 * `finishTrunc` on the component arrays of any replicated scheme (rep4 too): out_k = coef·m_k − h_k
 * for each held component k of [m] and [⌊r'/2^f⌋], and the public part (c ≫ f) − 2^(62−f) added to
 * the component at `pubSlot` (−1 when this party does not hold the component that carries constants).
 */
export function finishTruncParts(
  c: BigUint64Array,
  f: number,
  m: readonly BigUint64Array[],
  h: readonly BigUint64Array[],
  pubSlot: number,
): BigUint64Array[] {
  const n = c.length;
  const top = 1n << BigInt(63 - f);
  const negTop = BigInt.asUintN(64, -top);
  const bias = 1n << BigInt(62 - f);
  const cu = new Uint32Array(c.buffer, c.byteOffset, 2 * n);
  const coef = new BigUint64Array(n);
  for (let i = 0; i < n; i++) coef[i] = cu[2 * i + 1]! >>> 31 ? negTop : top;
  const out = m.map((mk, k) => coefTerm(coef, mk, h[k]!));
  if (pubSlot >= 0) {
    const pub = shrLogical(c, f);
    const d = out[pubSlot]!;
    for (let i = 0; i < n; i++) d[i] = d[i]! + pub[i]! - bias;
  }
  return out;
}

/** coef ⊙ m − h, in a function of its own so that V8 keeps the loop native. */
function coefTerm(coef: BigUint64Array, m: BigUint64Array, h: BigUint64Array): BigUint64Array {
  const n = coef.length;
  const o = new BigUint64Array(n);
  for (let i = 0; i < n; i++) o[i] = coef[i]! * m[i]! - h[i]!;
  return o;
}

function checkTriples(t: TruncTriples, n: number): void {
  if (t.r.a.length < n)
    throw new ShareholdError('prep-exhausted', `need ${n} truncation triples, have ${t.r.a.length}`);
}

/** ⌊x / 2^f⌋ with ideal stochastic rounding; requires |x| < 2^62. */
export async function trunc(ctx: Rep3Ctx, scope: OpScope, x: Rep3A, t: TruncTriples): Promise<Rep3A> {
  const n = x.a.length;
  checkTriples(t, n);
  const masked: Rep3A = { a: new BigUint64Array(n), b: new BigUint64Array(n) };
  for (let i = 0; i < n; i++) {
    masked.a[i] = x.a[i]! + t.r.a[i]!;
    masked.b[i] = x.b[i]! + t.r.b[i]!;
  }
  // + 2^62 on component 0
  if (ctx.me === 0) for (let i = 0; i < n; i++) masked.a[i] = masked.a[i]! + TWO62;
  if (ctx.me === 2) for (let i = 0; i < n; i++) masked.b[i] = masked.b[i]! + TWO62;
  const c = await revealA(ctx, scope, masked);
  return finishTrunc(ctx.me, c!, t);
}

/**
 * Open c from a 3-out-of-3 share z_me: every party sends z_me + α_me + r_me (+2^62 at party 0) to both
 * others. α makes the three messages a fresh random sharing of c.
 */
async function openAdditive(
  ctx: Rep3Ctx,
  scope: OpScope,
  z: BigUint64Array,
  t: TruncTriples,
): Promise<BigUint64Array> {
  const n = z.length;
  checkTriples(t, n);
  const alpha = zeroA(ctx, scope.id, n, 'open');
  const d = z;
  for (let i = 0; i < n; i++) d[i] = d[i]! + alpha[i]! + t.r.a[i]!;
  if (ctx.me === 0) for (let i = 0; i < n; i++) d[i] = d[i]! + TWO62;
  const got = await exchange(
    ctx.ch,
    scope.id,
    [
      [ctx.next, asBytes(d)],
      [ctx.prev, asBytes(d)],
    ],
    [ctx.next, ctx.prev],
  );
  for (const [k, g] of got.entries())
    if (g.byteLength !== n * 8)
      throw new ShareholdError(
        'frame-malformed',
        `open: ${g.byteLength} bytes from peer ${k}, expected ${n * 8}`,
      );
  const c = fromBytes(got[0]!);
  const e = fromBytes(got[1]!);
  const out = new BigUint64Array(n);
  for (let i = 0; i < n; i++) out[i] = d[i]! + c[i]! + e[i]!;
  return out;
}

/** Fixed-point product: ⌊x·y / 2^f⌋ in one round. */
export async function mulTrunc(
  ctx: Rep3Ctx,
  scope: OpScope,
  x: Rep3A,
  y: Rep3A,
  t: TruncTriples,
): Promise<Rep3A> {
  const c = await openAdditive(ctx, scope, mulLocal(x, y), t);
  return finishTrunc(ctx.me, c, t);
}

/** Fixed-point matrix product ⌊X·Y / 2^f⌋ (X m×k, Y k×n) in one round. */
export async function matmulTrunc(
  ctx: Rep3Ctx,
  scope: OpScope,
  x: Rep3A,
  y: Rep3A,
  m: number,
  k: number,
  n: number,
  t: TruncTriples,
): Promise<Rep3A> {
  const c = await openAdditive(ctx, scope, matmulLocal(x, y, m, k, n), t);
  return finishTrunc(ctx.me, c, t);
}
