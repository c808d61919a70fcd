/**
 * Four-party replicated secret sharing [DEK21] ("Fantastic Four"): local share math, no network.
 *
 * Notation: x = x_0 + x_1 + x_2 + x_3 (arithmetic, Z_2^64) or x_0 ⊕ x_1 ⊕ x_2 ⊕ x_3 (binary). Party i
 * holds the three components that are not its own, stored in slot order
 * `c = [x_{i+1}, x_{i+2}, x_{i+3}]` (indices mod 4): component j sits in slot (j − i − 1) mod 4 at every
 * party i ≠ j. Each component is known to three parties; any two parties together know all four; one
 * party's view (three uniformly random components) says nothing about x (t = 1).
 *
 * Binary shares are bit-sliced (src/math/bits.ts): each slot holds `w` planes of `W = ceil(n/32)` words.
 *
 * Dropping to three parties (`toRep3A`/`toRep3B`) is local: the lost party's component x_d is held by
 * all three survivors, so it is folded into one rep3 component and every other component becomes the
 * rep3 component that its one non-holder misses (see docs/rep4.md).
 */
import * as R from '../../math/ring.js';
import { wordsPerPlane } from '../../math/bits.js';
import { invalidArgument } from '../../errors.js';
import { Prg, randomSeed } from '../../math/prg.js';
import type { Rep3A, Rep3B } from './rep3.js';

export type Slots<T> = readonly [T, T, T];

export interface Rep4A {
  /** [x_{me+1}, x_{me+2}, x_{me+3}]. */
  readonly c: Slots<BigUint64Array>;
}

export interface Rep4B {
  /** Number of elements. */
  readonly n: number;
  /** Bit width (number of planes). */
  readonly w: number;
  /** [x_{me+1}, x_{me+2}, x_{me+3}], each w planes of ceil(n/32) words. */
  readonly c: Slots<Uint32Array>;
}

/** Slot of component j at party me (j ≠ me). */
export function slotOf(me: number, j: number): number {
  const k = (((j - me - 1) % 4) + 4) % 4;
  if (k === 3) throw invalidArgument(`party ${me} does not hold component ${j}`);
  return k;
}

/** Component held in slot k by party me. */
export function componentAt(me: number, k: number): number {
  return (me + 1 + k) % 4;
}

function checkParty(me: number): void {
  if (!Number.isInteger(me) || me < 0 || me > 3) throw invalidArgument(`rep4 party index ${me} not in 0..3`);
}

export function lengthA(x: Rep4A): number {
  return x.c[0].length;
}

function same(x: Rep4A, y: Rep4A): void {
  if (x.c[0].length !== y.c[0].length)
    throw invalidArgument(`share length mismatch: ${x.c[0].length} vs ${y.c[0].length}`);
}

function map3<T, U>(s: Slots<T>, f: (v: T, k: number) => U): Slots<U> {
  return [f(s[0], 0), f(s[1], 1), f(s[2], 2)];
}

export function addA(x: Rep4A, y: Rep4A): Rep4A {
  same(x, y);
  return { c: map3(x.c, (v, k) => R.add(v, y.c[k]!)) };
}

export function subA(x: Rep4A, y: Rep4A): Rep4A {
  same(x, y);
  return { c: map3(x.c, (v, k) => R.sub(v, y.c[k]!)) };
}

export function negA(x: Rep4A): Rep4A {
  return { c: map3(x.c, (v) => R.neg(v)) };
}

export function mulScalarA(x: Rep4A, s: bigint): Rep4A {
  return { c: map3(x.c, (v) => R.mulScalar(v, s)) };
}

export function mulPublicA(x: Rep4A, c: BigUint64Array): Rep4A {
  if (c.length !== x.c[0].length)
    throw invalidArgument(`public length ${c.length} vs share ${x.c[0].length}`);
  return { c: map3(x.c, (v) => R.mul(v, c)) };
}

/** x + c for a public vector c: added to component 0 (held by parties 1, 2, 3). */
export function addPublicA(me: number, x: Rep4A, c: BigUint64Array): Rep4A {
  checkParty(me);
  if (c.length !== x.c[0].length)
    throw invalidArgument(`public length ${c.length} vs share ${x.c[0].length}`);
  const k0 = me === 0 ? -1 : slotOf(me, 0);
  return { c: map3(x.c, (v, k) => (k === k0 ? R.add(v, c) : v.slice())) };
}

export function addScalarA(me: number, x: Rep4A, s: bigint): Rep4A {
  checkParty(me);
  const k0 = me === 0 ? -1 : slotOf(me, 0);
  return { c: map3(x.c, (v, k) => (k === k0 ? R.addScalar(v, s) : v.slice())) };
}

/** The sharing of a public vector: component 0 = c, others 0. */
export function publicA(me: number, c: BigUint64Array): Rep4A {
  const n = c.length;
  return addPublicA(me, { c: [new BigUint64Array(n), new BigUint64Array(n), new BigUint64Array(n)] }, c);
}

export function zerosA(n: number): Rep4A {
  return { c: [new BigUint64Array(n), new BigUint64Array(n), new BigUint64Array(n)] };
}

export function sliceA(x: Rep4A, start: number, end: number): Rep4A {
  return { c: map3(x.c, (v) => v.slice(start, end)) };
}

export function gatherA(x: Rep4A, idx: Int32Array): Rep4A {
  const len = x.c[0].length;
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i]!;
    if (j < 0 || j >= len) throw invalidArgument(`gather index ${j} outside 0..${len - 1}`);
  }
  return { c: map3(x.c, (v) => gather(v, idx)) };
}

/** v[idx[i]] for every i, a new array (a top-level loop: V8 keeps it native, unlike in a closure). */
function gather(v: BigUint64Array, idx: Int32Array): BigUint64Array {
  const n = idx.length;
  const o = new BigUint64Array(n);
  for (let i = 0; i < n; i++) o[i] = v[idx[i]!]!;
  return o;
}

export function concatA(xs: readonly Rep4A[]): Rep4A {
  const n = xs.reduce((s, x) => s + x.c[0].length, 0);
  const out = zerosA(n);
  let off = 0;
  for (const x of xs) {
    for (let k = 0; k < 3; k++) out.c[k]!.set(x.c[k]!, off);
    off += x.c[0].length;
  }
  return out;
}

// ---- binary (bit-sliced) ------------------------------------------------------------------------

function sameB(x: Rep4B, y: Rep4B): void {
  if (x.n !== y.n || x.w !== y.w)
    throw invalidArgument(`binary share shape mismatch: ${x.n}x${x.w} vs ${y.n}x${y.w}`);
}

export function xorB(x: Rep4B, y: Rep4B): Rep4B {
  sameB(x, y);
  return {
    n: x.n,
    w: x.w,
    c: map3(x.c, (v, k) => {
      const o = new Uint32Array(v.length);
      const u = y.c[k]!;
      for (let i = 0; i < o.length; i++) o[i] = v[i]! ^ u[i]!;
      return o;
    }),
  };
}

/** x ⊕ c for public planes c (same layout): c goes into component 0. */
export function xorPublicB(me: number, x: Rep4B, c: Uint32Array): Rep4B {
  checkParty(me);
  if (c.length !== x.c[0].length) throw invalidArgument('public planes length mismatch');
  const k0 = me === 0 ? -1 : slotOf(me, 0);
  return {
    n: x.n,
    w: x.w,
    c: map3(x.c, (v, k) => {
      const o = v.slice();
      if (k === k0) for (let i = 0; i < o.length; i++) o[i]! ^= c[i]!;
      return o;
    }),
  };
}

/** Planes [lo, lo+w) of x (copied). */
export function planesB(x: Rep4B, lo: number, w: number): Rep4B {
  if (lo < 0 || lo + w > x.w) throw invalidArgument(`planes [${lo}, ${lo + w}) outside width ${x.w}`);
  const W = wordsPerPlane(x.n);
  return { n: x.n, w, c: map3(x.c, (v) => v.slice(lo * W, (lo + w) * W)) };
}

// ---- rep4 → rep3 (a party leaves or is lost) -----------------------------------------------------

/** The three remaining parties in increasing index order: their rep3 indices are 0, 1, 2. */
export function survivors(lost: number): [number, number, number] {
  checkParty(lost);
  return [0, 1, 2, 3].filter((p) => p !== lost) as [number, number, number];
}

/**
 * Which rep4 components make up this survivor's rep3 pair (y_k, y_{k+1}), k its rep3 index: rep3
 * component y_{(k'+2) mod 3} = x_{s_k'} (the component that survivor s_k' lacks), and the lost party's
 * component x_d is added to y_0.
 */
function rep3Plan(me: number, lost: number): { k: number; a: number[]; b: number[] } {
  checkParty(me);
  if (me === lost) throw invalidArgument(`party ${me} is the lost party`);
  const s = survivors(lost);
  const k = s.indexOf(me);
  // y_m = x_{s_{(m+1) mod 3}} (+ x_lost when m = 0)
  const y = (m: number): number[] => (m === 0 ? [s[1], lost] : [s[(m + 1) % 3]!]);
  return { k, a: y(k), b: y((k + 1) % 3) };
}

/**
 * Local conversion of a rep4 sharing to a rep3 sharing among the three parties other than `lost`
 * (no communication). Rep3 party indices are the survivors' ranks in increasing original index.
 */
export function toRep3A(me: number, lost: number, x: Rep4A): Rep3A {
  const { a, b } = rep3Plan(me, lost);
  const pick = (js: number[]): BigUint64Array => {
    const o = x.c[slotOf(me, js[0]!)]!.slice();
    for (const j of js.slice(1)) R.add(o, x.c[slotOf(me, j)]!, o);
    return o;
  };
  return { a: pick(a), b: pick(b) };
}

/** Binary counterpart of `toRep3A` (XOR instead of addition). */
export function toRep3B(me: number, lost: number, x: Rep4B): Rep3B {
  const { a, b } = rep3Plan(me, lost);
  const pick = (js: number[]): Uint32Array => {
    const o = x.c[slotOf(me, js[0]!)]!.slice();
    for (const j of js.slice(1)) {
      const v = x.c[slotOf(me, j)]!;
      for (let i = 0; i < o.length; i++) o[i]! ^= v[i]!;
    }
    return o;
  };
  return { n: x.n, w: x.w, a: pick(a), b: pick(b) };
}

// ---- dealer-side helpers (tests, and a data owner sharing its own input) ---------------------------

type Four<T> = [T, T, T, T];

/** Split x into four replicated shares, one per party (index = party). */
export function shareA(x: BigUint64Array, prg: Prg = new Prg(randomSeed())): Four<Rep4A> {
  const x0 = prg.ring(x.length);
  const x1 = prg.ring(x.length);
  const x2 = prg.ring(x.length);
  const x3 = R.sub(R.sub(R.sub(x, x0), x1), x2);
  const comp = [x0, x1, x2, x3];
  return [0, 1, 2, 3].map((i) => ({
    c: [0, 1, 2].map((k) => comp[componentAt(i, k)]!.slice()) as unknown as Slots<BigUint64Array>,
  })) as Four<Rep4A>;
}

/** Reconstruct from all four shares, checking that every copy of every component agrees. */
export function reconstructA(shares: readonly Rep4A[]): BigUint64Array {
  if (shares.length !== 4 || shares.some((s) => !s)) throw invalidArgument('need all four shares');
  const comp: BigUint64Array[] = [];
  for (let j = 0; j < 4; j++) {
    const copies = [0, 1, 2, 3].filter((i) => i !== j).map((i) => shares[i]!.c[slotOf(i, j)]!);
    if (!copies.every((c) => R.equal(c, copies[0]!))) throw invalidArgument('inconsistent replicated shares');
    comp.push(copies[0]!);
  }
  return R.add(R.add(comp[0]!, comp[1]!), R.add(comp[2]!, comp[3]!));
}

export function shareB(
  planes: Uint32Array,
  n: number,
  w: number,
  prg: Prg = new Prg(randomSeed()),
): Four<Rep4B> {
  const x0 = prg.words(planes.length);
  const x1 = prg.words(planes.length);
  const x2 = prg.words(planes.length);
  const x3 = new Uint32Array(planes.length);
  for (let i = 0; i < x3.length; i++) x3[i] = planes[i]! ^ x0[i]! ^ x1[i]! ^ x2[i]!;
  const comp = [x0, x1, x2, x3];
  return [0, 1, 2, 3].map((i) => ({
    n,
    w,
    c: [0, 1, 2].map((k) => comp[componentAt(i, k)]!.slice()) as unknown as Slots<Uint32Array>,
  })) as Four<Rep4B>;
}

export function reconstructB(shares: readonly Rep4B[]): Uint32Array {
  if (shares.length !== 4 || shares.some((s) => !s)) throw invalidArgument('need all four shares');
  const out = new Uint32Array(shares[0]!.c[0].length);
  for (let j = 0; j < 4; j++) {
    const copies = [0, 1, 2, 3].filter((i) => i !== j).map((i) => shares[i]!.c[slotOf(i, j)]!);
    for (let i = 0; i < out.length; i++) {
      const v = copies[0]![i]!;
      if (copies[1]![i] !== v || copies[2]![i] !== v) throw invalidArgument('inconsistent binary shares');
      out[i]! ^= v;
    }
  }
  return out;
}
