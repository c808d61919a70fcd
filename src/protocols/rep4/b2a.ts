/**
 * Bit injection (one shared bit → arithmetic 0/1) and daBits for four-party replicated sharing.
 *
 * `bitInject`: b = b_0 ⊕ b_1 ⊕ b_2 ⊕ b_3 where β_A = b_0 ⊕ b_1 is known to the pair A = {2, 3} and
 * β_B = b_2 ⊕ b_3 to the pair B = {0, 1}. Both pairs input their bit as a ring element in one round
 * (joint input, inp.ts), then [b] = [β_A] + [β_B] − 2·[β_A·β_B] with one multiplication.
 * Rounds: 2. Bytes: 1.5 ring elements (12 B) per bit per party (0.5 for the inputs, 1 for the product:
 * only the four pairs whose share of βA·βB can be non-zero take part, `mulCrossA`).
 *
 * daBits [EGKRS20]: random bits r shared both in binary and arithmetic. [r]^B comes from PRSS (free:
 * every party lacks one component, so nobody knows r); [r]^A = bitInject([r]^B). Offline.
 * `bitInjectDa` (online): open c = b ⊕ r (1 round, 1 bit per element per party), then locally
 * [b]^A = c + [r]^A − 2c·[r]^A.
 * Security: semi-honest, one corrupt party.
 */
import { wordsPerPlane, lastWordMask } from '../../math/bits.js';
import * as R from '../../math/ring.js';
import type { OpScope } from '../channel.js';
import { invalidArgument } from '../../errors.js';
import { slotOf, zerosA, type Rep4A, type Rep4B, type Slots } from '../../sharing/replicated/rep4.js';
import { randomB, type Rep4Ctx } from './context.js';
import { JointRound, PAIR_A, PAIR_B, SCRATCH, scratch, sharedZeros } from './inp.js';
import { mulCrossA } from './mul.js';
import { revealB } from './reveal.js';

/** Bits of a plane as ring 0/1 values, written on the low 32-bit halves (no BigInt per element). */
function bitsToRing(plane: Uint32Array, n: number): BigUint64Array {
  const o = new BigUint64Array(n);
  const h = new Uint32Array(o.buffer);
  for (let i = 0; i < n; i++) h[2 * i] = (plane[i >>> 5]! >>> (i & 31)) & 1;
  return o;
}

/**
 * Bits of p ⊕ q as ring 0/1 values (`bitsToRing` of the XOR, without materialising it), in a scratch
 * buffer: the joint input consumes it before its round's first await.
 */
function xorBitsToRing(p: Uint32Array, q: Uint32Array, n: number): BigUint64Array {
  const buf = scratch(SCRATCH.injectValue, n * 8);
  const h = new Uint32Array(buf, 0, 2 * n);
  for (let i = 0; i < n; i++) {
    h[2 * i] = ((p[i >>> 5]! ^ q[i >>> 5]!) >>> (i & 31)) & 1;
    h[2 * i + 1] = 0;
  }
  return new BigUint64Array(buf, 0, n);
}

// Element loops live in top-level functions taking every array as a parameter (V8 keeps BigUint64Array
// arithmetic native there, not inside async functions).

/** p ← a − 2p, in place. */
function linInPlace(p: BigUint64Array, a: BigUint64Array): void {
  const n = p.length;
  for (let i = 0; i < n; i++) {
    const t = p[i]!;
    p[i] = a[i]! - t - t;
  }
}

/** o = (1 − 2c)·r (c ∈ {0, 1}). */
function signInto(o: BigUint64Array, c: BigUint64Array, r: BigUint64Array): void {
  const n = o.length;
  for (let i = 0; i < n; i++) o[i] = (1n - 2n * c[i]!) * r[i]!;
}

/** Lift one binary plane (bit per element) to an arithmetic 0/1 sharing. */
export async function bitInject(ctx: Rep4Ctx, scope: OpScope, bit: Rep4B): Promise<Rep4A> {
  if (bit.w !== 1) throw invalidArgument(`bitInject expects 1 plane, got ${bit.w}`);
  const me = ctx.me;
  const n = bit.n;
  const comp = (j: number): Uint32Array => bit.c[slotOf(me, j)]!;
  // β_A has components 0, 1 only and β_B 2, 3 only; their zero components are a shared zero buffer
  // (the joint inputs write only the complement's components, the cross product and the final
  // combination read only the non-zero ones)
  const zero = new BigUint64Array(sharedZeros(n * 8), 0, n);
  const fresh = (j: number, own: readonly number[]): BigUint64Array =>
    own.includes(j) ? new BigUint64Array(n) : zero;
  const slots = (own: readonly number[]): Slots<BigUint64Array> =>
    [0, 1, 2].map((k) => fresh((me + 1 + k) % 4, own)) as unknown as Slots<BigUint64Array>;
  const bA: Rep4A = { c: slots([0, 1]) };
  const bB: Rep4A = { c: slots([2, 3]) };
  const round = new JointRound(ctx, scope.child('pairs'));
  round.ring(PAIR_A, n, () => xorBitsToRing(comp(0), comp(1), n), bA.c);
  round.ring(PAIR_B, n, () => xorBitsToRing(comp(2), comp(3), n), bB.c);
  await round.run();
  // bA has components 0, 1 only (pair A's input), bB 2, 3 (pair B's): the 4-pair product suffices
  const prod = await mulCrossA(ctx, scope.child('mul'), bA, bB);
  // [b] = [β_A] + [β_B] − 2[β_A·β_B], per component: exactly one of β_A, β_B is non-zero there
  for (let k = 0; k < 3; k++) {
    const j = (me + 1 + k) % 4;
    linInPlace(prod.c[k]!, j < 2 ? bA.c[k]! : bB.c[k]!);
  }
  return prod;
}

/** daBits: random bits shared in binary (one plane) and arithmetic. */
export interface DaBits4 {
  readonly bin: Rep4B;
  readonly arith: Rep4A;
}

/** Offline: n daBits (2 rounds, 16 B per bit per party). */
export async function genDaBits(ctx: Rep4Ctx, scope: OpScope, n: number): Promise<DaBits4> {
  const W = wordsPerPlane(n);
  const bin = randomB(ctx, scope.id, n, 1, W, 'dabit');
  const mask = lastWordMask(n);
  for (const c of bin.c) c[W - 1]! &= mask;
  const arith = await bitInject(ctx, scope.child('inj'), bin);
  return { bin, arith };
}

/** daBits [start, end) of a batch; start must be a multiple of 32 (binary planes are word-aligned). */
export function sliceDaBits(d: DaBits4, start: number, end: number): DaBits4 {
  if (start % 32 !== 0) throw invalidArgument('daBit slices start on a multiple of 32');
  const w0 = start >>> 5;
  const w1 = wordsPerPlane(end);
  return {
    bin: {
      n: end - start,
      w: 1,
      c: d.bin.c.map((c) => c.subarray(w0, w1)) as unknown as Slots<Uint32Array>,
    },
    arith: { c: d.arith.c.map((c) => c.subarray(start, end)) as unknown as Slots<BigUint64Array> },
  };
}

/** Online injection with daBits: open b ⊕ r, then [b] = c + [r] − 2c·[r] locally. */
export async function bitInjectDa(ctx: Rep4Ctx, scope: OpScope, bit: Rep4B, da: DaBits4): Promise<Rep4A> {
  if (bit.w !== 1 || da.bin.n < bit.n)
    throw invalidArgument('bitInjectDa: one plane and enough daBits required');
  const me = ctx.me;
  const n = bit.n;
  const W = wordsPerPlane(n);
  const masked: Rep4B = {
    n,
    w: 1,
    c: [0, 1, 2].map((k) => {
      const o = new Uint32Array(W);
      const b = bit.c[k]!;
      const r = da.bin.c[k]!;
      for (let i = 0; i < W; i++) o[i] = b[i]! ^ r[i]!;
      return o;
    }) as unknown as Slots<Uint32Array>,
  };
  const c = (await revealB(ctx, scope, masked))!;
  const cr = bitsToRing(c, n);
  // (1 − 2c)·r: negate where c = 1, as a multiply by a ±1 coefficient (native element expressions)
  const out = zerosA(n);
  for (let k = 0; k < 3; k++) signInto(out.c[k]!, cr, da.arith.c[k]!);
  // + c on component 0 (held by parties 1, 2, 3)
  if (me !== 0) R.add(out.c[slotOf(me, 0)]!, cr, out.c[slotOf(me, 0)]);
  return out;
}
