/**
 * Fixed-point truncation for four-party replicated sharing: rep3's probabilistic truncation with a
 * jointly random mask ([DEK20 §4] with the sign-bit correction, made safe per [Orca]; see
 * src/protocols/rep3/trunc.ts and docs/numerics.md), with a rep4-specific way to make the mask.
 *
 * The mask. r = Σ_j ρ_j is the PRSS random sharing (free); every party lacks one ρ_j, so NO SINGLE
 * PARTY knows r or any function of it (t = 1; a pair would know it, which is outside the threat model).
 * The online step needs [⌊r'/2^f⌋] (r' = r mod 2^63) and [m] = [msb(r)], which depend on carries
 * inside r. Write r = r_A + r_B with r_A = ρ_0 + ρ_1 known to the pair A = {2, 3} and r_B = ρ_2 + ρ_3
 * known to B = {0, 1}, a = r_A mod 2^63, b = r_B mod 2^63. Then
 *   c63 = [a + b ≥ 2^63], c_f = [(a mod 2^f) + (b mod 2^f) ≥ 2^f],
 *   m = msb(r_A) ⊕ msb(r_B) ⊕ c63,  ⌊r'/2^f⌋ = ⌊a/2^f⌋ + ⌊b/2^f⌋ + c_f − 2^(63−f)·c63.
 * Each pair inputs the bits of its summand and ⌊·/2^f⌋ of it (one joint-input round), the two carries
 * come from two carry-out trees run in lockstep (rep3's `carryOuts`), and c_f, c63, m are injected to
 * arithmetic together. Offline per batch: 1 + 1 + 6 + 2 = 10 rounds, ≈ 79 bytes per triple per party
 * (measured; the generate round and the injection's product use only the four pairs whose share can be
 * non-zero, `andCrossWords`/`mulCrossA`).
 *
 * Online (identical to rep3, so the result is ideal stochastic rounding: ⌊x/2^f⌋ + Bernoulli(frac),
 * never more than 1 ulp off, for |x| < 2^62): open c = x + 2^62 + r and finish locally with rep3's
 * `finishTruncParts`. `trunc`: 1 round, 1 element per party.
 * `mulTrunc`/`matmulTrunc` open c = x·y + 2^62 + r straight from the six pair values of the product:
 * party i receives the three pair values of the pairs it is not in, each from one pair member and
 * vouched for by the other, masked by three k_i-values that sum to ρ_i. 1 round, 3 elements (24 B)
 * per output per party.
 * Security: semi-honest, one corrupt party.
 */
import { toPlanes, wordsPerPlane } from '../../math/bits.js';
import * as R from '../../math/ring.js';
import { asBytes, fromBytes } from '../../math/ring.js';
import type { OpScope } from '../channel.js';
import { ShareholdError, invalidArgument } from '../../errors.js';
import { slotOf, zerosA, type Rep4A, type Rep4B, type Slots } from '../../sharing/replicated/rep4.js';
import { applyCarries, finishTruncParts } from '../rep3/trunc.js';
import { carryOuts } from '../rep3/adder.js';
import { prgOf, randomA, type Rep4Ctx } from './context.js';
import { JointRound, PAIRS, PAIR_A, PAIR_B, pairIndex, SCRATCH, scratch, sharedZeros } from './inp.js';
import { genProp, planeOf } from './compare.js';
import { rep4Bits, xorPlane4, mulPairValue, matmulPairValue, checkMatmul, myPairs } from './mul.js';
import { bitInject } from './b2a.js';
import { revealA } from './reveal.js';
import { jmpRound, type JointMessage } from './jmp.js';

export interface TruncTriples4 {
  readonly f: number;
  /** [r], r uniform in Z_2^64. */
  readonly r: Rep4A;
  /** [⌊(r mod 2^63) / 2^f⌋]. */
  readonly h: Rep4A;
  /** [msb(r)] as 0/1. */
  readonly m: Rep4A;
}

const TWO62 = 1n << 62n;

/** Generate n truncation triples for f fractional bits (offline, input-independent). */
export async function genTruncTriples(
  ctx: Rep4Ctx,
  scope: OpScope,
  n: number,
  f: number,
): Promise<TruncTriples4> {
  if (!Number.isInteger(f) || f < 1 || f > 40) throw invalidArgument(`truncation bits f=${f} outside 1..40`);
  const me = ctx.me;
  const W = wordsPerPlane(n);
  const r = randomA(ctx, scope.id, n, 'r');
  // the summands and ⌊(s mod 2^63)/2^f⌋ are consumed by the joint inputs before the round's await
  const summand = (i: number, j: number): BigUint64Array =>
    R.add(r.c[slotOf(me, i)]!, r.c[slotOf(me, j)]!, scratchRing(SCRATCH.truncSummand, n));
  const low63 = (s: BigUint64Array): BigUint64Array => low63Shift(s, f, scratchRing(SCRATCH.truncLow, n));
  // α (pair A's input) has components 0, 1 only and β (pair B's) 2, 3 only: one shared zero array
  // stands for the components that stay 0 (nothing writes them)
  const L = 64 * W;
  const zero = new Uint32Array(sharedZeros(L * 4), 0, L);
  const planesOf = (own: readonly number[]): Rep4B => ({
    n,
    w: 64,
    c: [0, 1, 2].map((k) =>
      own.includes((me + 1 + k) % 4) ? new Uint32Array(L) : zero,
    ) as unknown as Slots<Uint32Array>,
  });
  const alpha = planesOf([0, 1]);
  const beta = planesOf([2, 3]);
  const h = zerosA(n);
  const isA = PAIRS[PAIR_A]!.includes(me);
  const isB = PAIRS[PAIR_B]!.includes(me);
  const sA = isA ? summand(0, 1) : null;
  const sB = isB ? summand(2, 3) : null;
  const round = new JointRound(ctx, scope.child('inp'));
  round.words(PAIR_A, alpha.c[0].length, () => toPlanes(sA!), alpha.c);
  round.words(PAIR_B, beta.c[0].length, () => toPlanes(sB!), beta.c);
  round.ring(PAIR_A, n, () => low63(sA!), h.c);
  round.ring(PAIR_B, n, () => low63(sB!), h.c);
  await round.run();
  // generate/propagate for positions 0..62; carries into bit 63 and into bit f
  const { g, p } = await genProp(ctx, scope.child('gen'), alpha, beta, 63);
  const [c63, cf] = await carryOuts(rep4Bits(ctx), scope.child('tree'), W, [
    { g, p },
    { g: g.slice(0, f), p: p.slice(0, f) },
  ]);
  const mBit = xorPlane4(xorPlane4(planeOf(alpha, 63), planeOf(beta, 63)), c63!);
  // inject [c_f, c63, m] as one stacked bit vector of 3 word-aligned blocks
  const N = 3 * 32 * W;
  const stacked: Rep4B = {
    n: N,
    w: 1,
    c: [0, 1, 2].map((k) => {
      const o = new Uint32Array(3 * W);
      o.set(cf![k]!, 0);
      o.set(c63![k]!, W);
      o.set(mBit[k]!, 2 * W);
      return o;
    }) as unknown as Slots<Uint32Array>,
  };
  const bits = await bitInject(ctx, scope.child('inj'), stacked);
  const block = (b: number, k: number): BigUint64Array => bits.c[k]!.subarray(b * 32 * W, b * 32 * W + n);
  const top = 1n << BigInt(63 - f);
  for (let k = 0; k < 3; k++) applyCarries(h.c[k]!, block(0, k), block(1, k), top);
  const m: Rep4A = { c: [block(2, 0), block(2, 1), block(2, 2)] };
  return { f, r, h, m };
}

function scratchRing(slot: number, n: number): BigUint64Array {
  return new BigUint64Array(scratch(slot, n * 8), 0, n);
}

/** o = ⌊(s mod 2^63) / 2^f⌋ for 1 ≤ f ≤ 40, on the 32-bit halves (one pass). */
function low63Shift(s: BigUint64Array, f: number, o: BigUint64Array): BigUint64Array {
  const n = s.length;
  const a = new Uint32Array(s.buffer, s.byteOffset, 2 * n);
  const d = new Uint32Array(o.buffer, o.byteOffset, 2 * n);
  if (f < 32)
    for (let i = 0; i < n; i++) {
      const lo = a[2 * i]!;
      const hi = a[2 * i + 1]! & 0x7fffffff;
      d[2 * i] = ((lo >>> f) | (hi << (32 - f))) >>> 0;
      d[2 * i + 1] = hi >>> f;
    }
  else
    for (let i = 0; i < n; i++) {
      d[2 * i] = (a[2 * i + 1]! & 0x7fffffff) >>> (f - 32);
      d[2 * i + 1] = 0;
    }
  return o;
}

/** Triples [start, end) of a batch. */
export function sliceTriples(t: TruncTriples4, start: number, end: number): TruncTriples4 {
  const s = (x: Rep4A): Rep4A => ({
    c: x.c.map((v) => v.subarray(start, end)) as unknown as Slots<BigUint64Array>,
  });
  return { f: t.f, r: s(t.r), h: s(t.h), m: s(t.m) };
}

function checkTriples(t: TruncTriples4, n: number): void {
  if (t.r.c[0].length < n)
    throw new ShareholdError('prep-exhausted', `need ${n} truncation triples, have ${t.r.c[0].length}`);
}

/** Shares of ⌊x/2^f⌋ from the opened c = x + 2^62 + r. */
export function finishTrunc4(me: number, c: BigUint64Array, t: TruncTriples4): Rep4A {
  const parts = finishTruncParts(c, t.f, t.m.c, t.h.c, me === 0 ? -1 : slotOf(me, 0));
  return { c: parts as unknown as Slots<BigUint64Array> };
}

/** ⌊x / 2^f⌋ with ideal stochastic rounding; requires |x| < 2^62. */
export async function trunc(ctx: Rep4Ctx, scope: OpScope, x: Rep4A, t: TruncTriples4): Promise<Rep4A> {
  const n = x.c[0].length;
  checkTriples(t, n);
  const me = ctx.me;
  // x + r, and + 2^62 on component 0 (held by parties 1, 2, 3)
  const pub = me === 0 ? -1 : slotOf(me, 0);
  const masked: Rep4A = {
    c: [0, 1, 2].map((k) => R.add(x.c[k]!, t.r.c[k]!)) as unknown as Slots<BigUint64Array>,
  };
  if (pub >= 0) R.addScalar(masked.c[pub]!, TWO62, masked.c[pub]);
  const c = await revealA(ctx, scope, masked);
  return finishTrunc4(me, c!, t);
}

/** a += v (a fresh mask buffer). */
function addInto(a: BigUint64Array, v: BigUint64Array): void {
  const n = a.length;
  for (let i = 0; i < n; i++) a[i] = a[i]! + v[i]!;
}

/** alpha ← ρ − α − β + v, in place (a top-level loop: V8 keeps it native, unlike in an async function). */
function lastMask(alpha: BigUint64Array, beta: BigUint64Array, rho: BigUint64Array, v: BigUint64Array): void {
  const n = alpha.length;
  for (let i = 0; i < n; i++) alpha[i] = rho[i]! - alpha[i]! - beta[i]! + v[i]!;
}

/** Σ of nine vectors + 2^62, a new array. */
function sumOpen(a: readonly BigUint64Array[], n: number): BigUint64Array {
  const [a0, a1, a2, a3, a4, a5, a6, a7, a8] = a as [
    BigUint64Array,
    BigUint64Array,
    BigUint64Array,
    BigUint64Array,
    BigUint64Array,
    BigUint64Array,
    BigUint64Array,
    BigUint64Array,
    BigUint64Array,
  ];
  return sum9(new BigUint64Array(n), a0, a1, a2, a3, a4, a5, a6, a7, a8);
}

function sum9(
  o: BigUint64Array,
  a0: BigUint64Array,
  a1: BigUint64Array,
  a2: BigUint64Array,
  a3: BigUint64Array,
  a4: BigUint64Array,
  a5: BigUint64Array,
  a6: BigUint64Array,
  a7: BigUint64Array,
  a8: BigUint64Array,
): BigUint64Array {
  const n = o.length;
  for (let i = 0; i < n; i++)
    o[i] = a0[i]! + a1[i]! + a2[i]! + a3[i]! + a4[i]! + a5[i]! + a6[i]! + a7[i]! + a8[i]! + TWO62;
  return o;
}

/**
 * The masked value of leg `which` (0, 1, 2) towards receiver i: v + α, v + β or v + ρ_i − α − β, with
 * α, β drawn from k_i (labels o1, o2). Only the streams that leg needs are drawn.
 */
function maskedLeg(
  ctx: Rep4Ctx,
  id: string,
  i: number,
  which: number,
  v: BigUint64Array,
  rho: BigUint64Array,
): Uint8Array {
  const n = v.length;
  if (which === 0) {
    const alpha = prgOf(ctx, i, id, 'o1').ring(n);
    addInto(alpha, v);
    return asBytes(alpha);
  }
  const beta = prgOf(ctx, i, id, 'o2').ring(n);
  if (which === 1) {
    addInto(beta, v);
    return asBytes(beta);
  }
  const alpha = prgOf(ctx, i, id, 'o1').ring(n);
  lastMask(alpha, beta, rho, v);
  return asBytes(alpha);
}

/**
 * Open c = Σ_p v_p + r + 2^62 where v_p are the six pair values of a product (this party computes its
 * three with `value`). Receiver i gets, from the three pairs {j,k}, {k,l}, {j,l} it is not in
 * (j, k, l = i+1, i+2, i+3), their values masked by α, β and ρ_i − α − β drawn from k_i; the senders
 * are j, k and l respectively, the vouchers the other pair members. A voucher computes its copy only
 * when the verifier needs it (the semi-honest default does not).
 */
async function openProduct(
  ctx: Rep4Ctx,
  scope: OpScope,
  n: number,
  value: (p: number) => BigUint64Array,
  t: TruncTriples4,
): Promise<BigUint64Array> {
  checkTriples(t, n);
  const me = ctx.me;
  const id = scope.id;
  const v = new Map<number, BigUint64Array>();
  for (const p of myPairs(me)) {
    const vp = value(p);
    if (vp.length !== n) throw invalidArgument(`pair value of length ${vp.length}, expected ${n}`);
    v.set(p, vp);
  }
  const verify = ctx.verifier.enabled;
  const msgs: JointMessage[] = [];
  for (let i = 0; i < 4; i++) {
    const j = (i + 1) % 4;
    const k = (i + 2) % 4;
    const l = (i + 3) % 4;
    const legs: [number, number, number][] = [
      [j, k, 0],
      [k, l, 1],
      [l, j, 2],
    ];
    for (const [sender, voucher, which] of legs) {
      let data: Uint8Array | null = null;
      if (me === sender || (me === voucher && verify)) {
        const vp = v.get(pairIndex(sender, voucher))!;
        data = maskedLeg(ctx, id, i, which, vp, t.r.c[slotOf(me, i)]!.subarray(0, n));
      }
      msgs.push({ sender, voucher, receiver: i, bytes: n * 8, data });
    }
  }
  const got = await jmpRound(ctx.ch, ctx.verifier, id, msgs);
  const parts = [...v.values()];
  for (let q = 0; q < 3; q++) parts.push(fromBytes(got[3 * me + q]!));
  for (let k = 0; k < 3; k++) parts.push(t.r.c[k]!.subarray(0, n));
  return sumOpen(parts, n);
}

/** Fixed-point product ⌊x·y / 2^f⌋ in one round. */
export async function mulTrunc(
  ctx: Rep4Ctx,
  scope: OpScope,
  x: Rep4A,
  y: Rep4A,
  t: TruncTriples4,
): Promise<Rep4A> {
  const n = x.c[0].length;
  if (y.c[0].length !== n) throw invalidArgument(`mul length mismatch: ${n} vs ${y.c[0].length}`);
  const c = await openProduct(ctx, scope, n, (p) => mulPairValue(ctx.me, x, y, p), t);
  return finishTrunc4(ctx.me, c, t);
}

/** Fixed-point matrix product ⌊X·Y / 2^f⌋ (X m×k, Y k×n) in one round. */
export async function matmulTrunc(
  ctx: Rep4Ctx,
  scope: OpScope,
  x: Rep4A,
  y: Rep4A,
  m: number,
  k: number,
  n: number,
  t: TruncTriples4,
): Promise<Rep4A> {
  checkMatmul(x, y, m, k, n);
  const c = await openProduct(ctx, scope, m * n, (p) => matmulPairValue(ctx.me, x, y, m, k, n, p), t);
  return finishTrunc4(ctx.me, c, t);
}
