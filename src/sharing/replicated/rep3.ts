/**
 * 2-of-3 replicated secret sharing [AFLNO16, ABY3]: local share math, no network.
 *
 * Notation: x = x_0 + x_1 + x_2 (arithmetic, Z_2^64) or x = x_0 ⊕ x_1 ⊕ x_2 (binary). Party i holds
 * the pair (x_i, x_{i+1}) (indices mod 3), stored as `{ a: x_i, b: x_{i+1} }`. Component j is thus
 * known to parties j and j-1. Any two parties reconstruct; one party's view is uniformly random.
 *
 * Binary shares are bit-sliced (src/math/bits.ts): `a`, `b` hold `w` planes of `W = ceil(n/32)` words.
 */
import * as R from '../../math/ring.js';
import { wordsPerPlane } from '../../math/bits.js';
import { invalidArgument } from '../../errors.js';
import { Prg, randomSeed } from '../../math/prg.js';

export interface Rep3A {
  readonly a: BigUint64Array;
  readonly b: BigUint64Array;
}

export interface Rep3B {
  /** Number of elements. */
  readonly n: number;
  /** Bit width (number of planes). */
  readonly w: number;
  readonly a: Uint32Array;
  readonly b: Uint32Array;
}

export function lengthA(x: Rep3A): number {
  return x.a.length;
}

function same(x: Rep3A, y: Rep3A): void {
  if (x.a.length !== y.a.length)
    throw invalidArgument(`share length mismatch: ${x.a.length} vs ${y.a.length}`);
}

export function addA(x: Rep3A, y: Rep3A): Rep3A {
  same(x, y);
  return { a: R.add(x.a, y.a), b: R.add(x.b, y.b) };
}

export function subA(x: Rep3A, y: Rep3A): Rep3A {
  same(x, y);
  return { a: R.sub(x.a, y.a), b: R.sub(x.b, y.b) };
}

export function negA(x: Rep3A): Rep3A {
  return { a: R.neg(x.a), b: R.neg(x.b) };
}

/** x · s for a public scalar s. */
export function mulScalarA(x: Rep3A, s: bigint): Rep3A {
  return { a: R.mulScalar(x.a, s), b: R.mulScalar(x.b, s) };
}

/** x ⊙ c for a public vector c. */
export function mulPublicA(x: Rep3A, c: BigUint64Array): Rep3A {
  return { a: R.mul(x.a, c), b: R.mul(x.b, c) };
}

/** x + c for a public vector c: added to component 0, held by parties 0 (as a) and 2 (as b). */
export function addPublicA(me: number, x: Rep3A, c: BigUint64Array): Rep3A {
  if (c.length !== x.a.length) throw invalidArgument(`public length ${c.length} vs share ${x.a.length}`);
  if (me === 0) return { a: R.add(x.a, c), b: x.b.slice() };
  if (me === 2) return { a: x.a.slice(), b: R.add(x.b, c) };
  return { a: x.a.slice(), b: x.b.slice() };
}

export function addScalarA(me: number, x: Rep3A, s: bigint): Rep3A {
  if (me === 0) return { a: R.addScalar(x.a, s), b: x.b.slice() };
  if (me === 2) return { a: x.a.slice(), b: R.addScalar(x.b, s) };
  return { a: x.a.slice(), b: x.b.slice() };
}

/** The sharing of a public vector: component 0 = c, others 0. */
export function publicA(me: number, c: BigUint64Array): Rep3A {
  const n = c.length;
  if (me === 0) return { a: c.slice(), b: new BigUint64Array(n) };
  if (me === 2) return { a: new BigUint64Array(n), b: c.slice() };
  return { a: new BigUint64Array(n), b: new BigUint64Array(n) };
}

export function sliceA(x: Rep3A, start: number, end: number): Rep3A {
  return { a: x.a.slice(start, end), b: x.b.slice(start, end) };
}

/** The sum of all elements, as a one-element sharing (local). */
export function sumA(x: Rep3A): Rep3A {
  return { a: BigUint64Array.of(R.sum(x.a)), b: BigUint64Array.of(R.sum(x.b)) };
}

/** Elements at public indices. */
export function gatherA(x: Rep3A, idx: Int32Array): Rep3A {
  const a = new BigUint64Array(idx.length);
  const b = new BigUint64Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i]!;
    if (j < 0 || j >= x.a.length) throw invalidArgument(`gather index ${j} outside 0..${x.a.length - 1}`);
    a[i] = x.a[j]!;
    b[i] = x.b[j]!;
  }
  return { a, b };
}

export function concatA(xs: readonly Rep3A[]): Rep3A {
  const n = xs.reduce((s, x) => s + x.a.length, 0);
  const a = new BigUint64Array(n);
  const b = new BigUint64Array(n);
  let off = 0;
  for (const x of xs) {
    a.set(x.a, off);
    b.set(x.b, off);
    off += x.a.length;
  }
  return { a, b };
}

// ---- binary (bit-sliced) ------------------------------------------------------------------------

function sameB(x: Rep3B, y: Rep3B): void {
  if (x.n !== y.n || x.w !== y.w)
    throw invalidArgument(`binary share shape mismatch: ${x.n}x${x.w} vs ${y.n}x${y.w}`);
}

export function xorB(x: Rep3B, y: Rep3B): Rep3B {
  sameB(x, y);
  const a = new Uint32Array(x.a.length);
  const b = new Uint32Array(x.b.length);
  for (let i = 0; i < a.length; i++) {
    a[i] = x.a[i]! ^ y.a[i]!;
    b[i] = x.b[i]! ^ y.b[i]!;
  }
  return { n: x.n, w: x.w, a, b };
}

/** x ⊕ c for public planes c (same layout): c goes into component 0. */
export function xorPublicB(me: number, x: Rep3B, c: Uint32Array): Rep3B {
  if (c.length !== x.a.length) throw invalidArgument('public planes length mismatch');
  const a = x.a.slice();
  const b = x.b.slice();
  if (me === 0) for (let i = 0; i < a.length; i++) a[i]! ^= c[i]!;
  if (me === 2) for (let i = 0; i < b.length; i++) b[i]! ^= c[i]!;
  return { n: x.n, w: x.w, a, b };
}

/** NOT of every bit. */
export function notB(me: number, x: Rep3B): Rep3B {
  const ones = new Uint32Array(x.a.length).fill(0xffffffff);
  return xorPublicB(me, x, ones);
}

/** Planes [lo, lo+w) of x (views copied). */
export function planesB(x: Rep3B, lo: number, w: number): Rep3B {
  if (lo < 0 || lo + w > x.w) throw invalidArgument(`planes [${lo}, ${lo + w}) outside width ${x.w}`);
  const W = wordsPerPlane(x.n);
  return { n: x.n, w, a: x.a.slice(lo * W, (lo + w) * W), b: x.b.slice(lo * W, (lo + w) * W) };
}

// ---- dealer-side helpers (tests, and a data owner sharing its own input) ---------------------------

/** Split x into three replicated shares, one per party (index = party). */
export function shareA(x: BigUint64Array, prg: Prg = new Prg(randomSeed())): [Rep3A, Rep3A, Rep3A] {
  const x0 = prg.ring(x.length);
  const x1 = prg.ring(x.length);
  const x2 = R.sub(R.sub(x, x0), x1);
  const c = [x0, x1, x2] as const;
  return [0, 1, 2].map((i) => ({ a: c[i]!.slice(), b: c[(i + 1) % 3]!.slice() })) as [Rep3A, Rep3A, Rep3A];
}

/** Reconstruct from party 0's and party 1's shares (x_0, x_1 from party 0; x_2 from party 1). */
export function reconstructA(shares: readonly Rep3A[]): BigUint64Array {
  const [s0, s1, s2] = shares;
  if (!s0 || !s1 || !s2) throw invalidArgument('need all three shares');
  const x = R.add(R.add(s0.a, s0.b), s1.b);
  // consistency: every party's pair must agree with the others'
  if (!R.equal(s0.b, s1.a) || !R.equal(s1.b, s2.a) || !R.equal(s2.b, s0.a))
    throw invalidArgument('inconsistent replicated shares');
  return x;
}

export function shareB(
  planes: Uint32Array,
  n: number,
  w: number,
  prg: Prg = new Prg(randomSeed()),
): [Rep3B, Rep3B, Rep3B] {
  const x0 = prg.words(planes.length);
  const x1 = prg.words(planes.length);
  const x2 = new Uint32Array(planes.length);
  for (let i = 0; i < x2.length; i++) x2[i] = planes[i]! ^ x0[i]! ^ x1[i]!;
  const c = [x0, x1, x2];
  return [0, 1, 2].map((i) => ({ n, w, a: c[i]!.slice(), b: c[(i + 1) % 3]!.slice() })) as [
    Rep3B,
    Rep3B,
    Rep3B,
  ];
}

export function reconstructB(shares: readonly Rep3B[]): Uint32Array {
  const [s0, s1, s2] = shares;
  if (!s0 || !s1 || !s2) throw invalidArgument('need all three shares');
  const out = new Uint32Array(s0.a.length);
  for (let i = 0; i < out.length; i++) {
    if (s0.b[i] !== s1.a[i] || s1.b[i] !== s2.a[i] || s2.b[i] !== s0.a[i])
      throw invalidArgument('inconsistent binary shares');
    out[i] = s0.a[i]! ^ s0.b[i]! ^ s1.b[i]!;
  }
  return out;
}
