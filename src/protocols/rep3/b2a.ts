/**
 * Binary → arithmetic conversion for 2-of-3 replicated shares.
 *
 * `b2a` [ABY3 §5.3]: parties draw y1 (component 1, known to parties 1 and 0) and y2 (component 2,
 * known to parties 2 and 1) from PRSS keys, compute x − y1 − y2 with a binary adder (one carry-save
 * AND round in which the y1∧y2 term is local to party 1, one generate round, Sklansky prefix), and
 * reveal the sum to the holders of component 0 (parties 0 and 2). Rounds: 1 + 1 + 6 + 1 = 9.
 * Bytes per element per party: about 63 + 63 + 350 + 64 bits ≈ 68 B (the reveal goes to 2 parties).
 *
 * `bitInject` (one bit → arithmetic 0/1): b = b0 ⊕ b1 ⊕ b2 with b0, b1 both known to party 0, so
 * d = b0 ⊕ b1 = b0 + b1 − 2·b0b1 needs one re-sharing of party 0's local b0b1, then
 * b = d + b2 − 2·d·b2 one multiplication. Rounds: 2. Bytes: 2 ring elements (16 B) per bit per party.
 * Security: semi-honest, honest majority.
 */
import { fromPlanes, lastWordMask, toPlanes, wordsPerPlane } from '../../math/bits.js';
import * as R from '../../math/ring.js';
import type { OpScope } from '../channel.js';
import { invalidArgument } from '../../errors.js';
import type { Rep3A, Rep3B } from '../../sharing/replicated/rep3.js';
import { componentA, randomB, type Rep3Ctx } from './context.js';
import { andPlanes, prefixCarries, xorPlane, xorPlanes, type Plane } from './adder.js';
import { revealB } from './reveal.js';
import { mulA, reshare } from './mul.js';

function planeAt(x: Uint32Array, j: number, W: number): Uint32Array {
  return x.subarray(j * W, (j + 1) * W);
}

/** Binary (64 planes) → arithmetic. */
export async function b2a(ctx: Rep3Ctx, scope: OpScope, x: Rep3B): Promise<Rep3A> {
  if (x.w !== 64) throw invalidArgument(`b2a expects 64 planes, got ${x.w}`);
  const n = x.n;
  const W = wordsPerPlane(n);
  const y1 = componentA(ctx, scope.id, 1, n, 'y1');
  const y2 = componentA(ctx, scope.id, 2, n, 'y2');
  // binary components of A = −y1 (component 1) and B = −y2 (component 2)
  const zeros = new Uint32Array(64 * W);
  const planesOfNeg = (y: BigUint64Array | null): Uint32Array => (y ? toPlanes(R.neg(y)) : zeros);
  const A1 = planesOfNeg(y1);
  const B2 = planesOfNeg(y2);
  // party i holds components (i, i+1): A sits in component 1, B in component 2
  const Ash: Plane[] = [];
  const Bsh: Plane[] = [];
  for (let j = 0; j < 64; j++) {
    const a1 = planeAt(A1, j, W);
    const b2 = planeAt(B2, j, W);
    const z = planeAt(zeros, j, W);
    if (ctx.me === 0) {
      Ash.push({ a: z, b: a1 });
      Bsh.push({ a: z, b: z });
    } else if (ctx.me === 1) {
      Ash.push({ a: a1, b: z });
      Bsh.push({ a: z, b: b2 });
    } else {
      Ash.push({ a: z, b: z });
      Bsh.push({ a: b2, b: z });
    }
  }
  const X: Plane[] = [];
  for (let j = 0; j < 64; j++) X.push({ a: planeAt(x.a, j, W), b: planeAt(x.b, j, W) });
  // carry-save: s = X ⊕ A ⊕ B; c = X∧(A⊕B) ⊕ A∧B (A∧B is local to party 1). Planes 0..62 of c.
  const s = X.map((xj, j) => xorPlane(xorPlane(xj, Ash[j]!), Bsh[j]!));
  const aXorB = Ash.map((aj, j) => xorPlane(aj, Bsh[j]!));
  const extra = ctx.me === 1 ? Ash.slice(0, 63).map((aj, j) => andWords(aj.a, Bsh[j]!.b)) : undefined;
  const c = await andPlanes(ctx, scope.child('csa'), W, X.slice(0, 63), aXorB.slice(0, 63), extra);
  // s + (c << 1)
  const gs = await andPlanes(ctx, scope.child('gen'), W, s.slice(1, 64), c.slice(0, 63));
  const zero: Plane = { a: new Uint32Array(W), b: new Uint32Array(W) };
  const g = [zero, ...gs];
  const p = [s[0]!, ...xorPlanes(W, s.slice(1, 64), c.slice(0, 63))];
  const G = await prefixCarries(ctx, scope.child('pfx'), W, g.slice(0, 63), p.slice(0, 63));
  const sum = { n, w: 64, a: new Uint32Array(64 * W), b: new Uint32Array(64 * W) };
  sum.a.set(p[0]!.a, 0);
  sum.b.set(p[0]!.b, 0);
  for (let j = 1; j < 64; j++) {
    const sj = xorPlane(p[j]!, G[j - 1]!);
    sum.a.set(sj.a, j * W);
    sum.b.set(sj.b, j * W);
  }
  const opened = await revealB(ctx, scope.child('open'), sum, [0, 2]);
  const x0 = opened ? fromPlanes(opened, n) : null;
  // shares: component 0 = x − y1 − y2 (parties 0, 2), component 1 = y1, component 2 = y2
  if (ctx.me === 0) return { a: x0!, b: y1! };
  if (ctx.me === 1) return { a: y1!, b: y2! };
  return { a: y2!, b: x0! };
}

function andWords(x: Uint32Array, y: Uint32Array): Uint32Array {
  const o = new Uint32Array(x.length);
  for (let i = 0; i < o.length; i++) o[i] = x[i]! & y[i]!;
  return o;
}

/** Lift one binary plane (bit per element) to an arithmetic 0/1 sharing. */
export async function bitInject(ctx: Rep3Ctx, scope: OpScope, bit: Rep3B): Promise<Rep3A> {
  if (bit.w !== 1) throw invalidArgument(`bitInject expects 1 plane, got ${bit.w}`);
  const n = bit.n;
  // arithmetic 0/1 values of my two components
  const ca = bitsToRing(bit.a, n);
  const cb = bitsToRing(bit.b, n);
  const zero = new BigUint64Array(n);
  // [b_j]^A: component j = b_j, others 0. Party i holds components (i, i+1).
  const comp = (j: number): Rep3A => {
    if (ctx.me === j) return { a: ca, b: zero };
    if (ctx.next === j) return { a: zero, b: cb };
    return { a: zero, b: zero };
  };
  const b0 = comp(0);
  const b1 = comp(1);
  const b2 = comp(2);
  // party 0 knows b0·b1 (its two components): re-share that local product
  const local = ctx.me === 0 ? R.mul(ca, cb) : new BigUint64Array(n);
  const b01 = await reshare(ctx, scope.child('b01'), local);
  const d = lin(b0, b1, b01); // b0 + b1 − 2 b0b1
  const db2 = await mulA(ctx, scope.child('db2'), d, b2);
  return lin(d, b2, db2);
}

/** x + y − 2z. */
function lin(x: Rep3A, y: Rep3A, z: Rep3A): Rep3A {
  return { a: lin1(x.a, y.a, z.a), b: lin1(x.b, y.b, z.b) };
}

/** x + y − 2z on one component (arrays as parameters: V8 keeps the loop native). */
function lin1(x: BigUint64Array, y: BigUint64Array, z: BigUint64Array): BigUint64Array {
  const n = x.length;
  const o = new BigUint64Array(n);
  for (let i = 0; i < n; i++) o[i] = x[i]! + y[i]! - 2n * z[i]!;
  return o;
}

/** Bits of a plane as ring 0/1 values, written on the low 32-bit halves (no BigInt per element). */
export function bitsToRing(plane: Uint32Array, n: number): BigUint64Array {
  const o = new BigUint64Array(n);
  const h = new Uint32Array(o.buffer);
  for (let i = 0; i < n; i++) h[2 * i] = (plane[i >>> 5]! >>> (i & 31)) & 1;
  return o;
}

/** o = (1 − 2c)·r + pub·c (c ∈ {0, 1}; pub = 1 on the component that carries constants). */
export function flipInto(o: BigUint64Array, c: BigUint64Array, r: BigUint64Array, pub: bigint): void {
  const n = o.length;
  for (let i = 0; i < n; i++) o[i] = (1n - 2n * c[i]!) * r[i]! + pub * c[i]!;
}

/** daBits: random bits r shared both in binary ([r]^B, one plane) and arithmetic ([r]^A) [EGKRS20]. */
export interface DaBits {
  readonly bin: Rep3B;
  readonly arith: Rep3A;
}

/**
 * Offline: n daBits. r = r_0 ⊕ r_1 ⊕ r_2 comes from PRSS (free, no party knows it); its arithmetic
 * sharing comes from `bitInject` (2 rounds, 16 B per bit per party).
 */
export async function genDaBits(ctx: Rep3Ctx, scope: OpScope, n: number): Promise<DaBits> {
  const W = wordsPerPlane(n);
  const bin = randomB(ctx, scope.id, n, 1, W, 'dabit');
  const mask = lastWordMask(n);
  bin.a[W - 1]! &= mask;
  bin.b[W - 1]! &= mask;
  const arith = await bitInject(ctx, scope.child('inj'), bin);
  return { bin, arith };
}

/**
 * Online bit injection with a daBit: open c = b ⊕ r (1 round, 1 bit per element per party), then
 * [b]^A = c + [r]^A − 2c·[r]^A locally.
 */
export async function bitInjectDa(ctx: Rep3Ctx, scope: OpScope, bit: Rep3B, da: DaBits): Promise<Rep3A> {
  if (bit.w !== 1 || da.bin.n < bit.n)
    throw invalidArgument('bitInjectDa: one plane and enough daBits required');
  const n = bit.n;
  const W = wordsPerPlane(n);
  const masked: Rep3B = { n, w: 1, a: new Uint32Array(W), b: new Uint32Array(W) };
  for (let i = 0; i < W; i++) {
    masked.a[i] = bit.a[i]! ^ da.bin.a[i]!;
    masked.b[i] = bit.b[i]! ^ da.bin.b[i]!;
  }
  const c = await revealB(ctx, scope, masked);
  const cr = bitsToRing(c!, n);
  const a = new BigUint64Array(n);
  const b = new BigUint64Array(n);
  // where c = 1: 1 − r, the public 1 on component 0 (a at party 0, b at party 2)
  flipInto(a, cr, da.arith.a, ctx.me === 0 ? 1n : 0n);
  flipInto(b, cr, da.arith.b, ctx.me === 2 ? 1n : 0n);
  return { a, b };
}

/** daBits [start, end) of a batch; binary planes must start on a word boundary (start % 32 === 0). */
export function sliceDaBits(d: DaBits, start: number, end: number): DaBits {
  if (start % 32 !== 0) throw invalidArgument('daBit slices start on a multiple of 32');
  const w0 = start >>> 5;
  const w1 = wordsPerPlane(end);
  return {
    bin: { n: end - start, w: 1, a: d.bin.a.subarray(w0, w1), b: d.bin.b.subarray(w0, w1) },
    arith: { a: d.arith.a.subarray(start, end), b: d.arith.b.subarray(start, end) },
  };
}
