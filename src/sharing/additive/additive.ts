/**
 * n-out-of-n additive secret sharing over Z_2^64 (and its XOR analogue for bits): local share math,
 * no network.
 *
 * Notation: x = x_0 + x_1 + … + x_{n−1} (mod 2^64), party i holds x_i (`{ v: x_i }`). Any n−1 shares
 * are uniformly random, so up to n−1 colluding parties learn nothing (dishonest majority). A public
 * value c is shared as (c, 0, …, 0): party 0 carries every public term.
 *
 * Binary shares are XOR shares, bit-sliced as in src/math/bits.ts: `v` holds `w` planes of
 * W = ceil(n/32) words; plane j, bit (i & 31) of word (i >>> 5) is bit j of element i.
 */
import * as R from '../../math/ring.js';
import { lastWordMask, wordsPerPlane } from '../../math/bits.js';
import { invalidArgument } from '../../errors.js';

/** A party's additive share of a vector of ring elements. */
export interface AddA {
  readonly v: BigUint64Array;
}

/** A party's XOR share of `n` elements of `w` bits, bit-sliced (w planes of ceil(n/32) words). */
export interface AddB {
  readonly n: number;
  readonly w: number;
  readonly v: Uint32Array;
}

function same(x: AddA, y: AddA): void {
  if (x.v.length !== y.v.length)
    throw invalidArgument(`share length mismatch: ${x.v.length} vs ${y.v.length}`);
}

export function lengthA(x: AddA): number {
  return x.v.length;
}

/** The sharing of a public vector: party 0 holds c, everyone else 0. */
export function publicA(me: number, c: BigUint64Array): AddA {
  return { v: me === 0 ? c.slice() : new BigUint64Array(c.length) };
}

export function addA(x: AddA, y: AddA): AddA {
  same(x, y);
  return { v: R.add(x.v, y.v) };
}

export function subA(x: AddA, y: AddA): AddA {
  same(x, y);
  return { v: R.sub(x.v, y.v) };
}

export function negA(x: AddA): AddA {
  return { v: R.neg(x.v) };
}

/** x · s for a public scalar s. */
export function mulScalarA(x: AddA, s: bigint): AddA {
  return { v: R.mulScalar(x.v, s) };
}

/** x ⊙ c for a public vector c. */
export function mulPublicA(x: AddA, c: BigUint64Array): AddA {
  if (c.length !== x.v.length)
    throw invalidArgument(`public vector length ${c.length}, expected ${x.v.length}`);
  return { v: R.mul(x.v, c) };
}

/** x + c for a public vector c (party 0 adds it). */
export function addPublicA(me: number, x: AddA, c: BigUint64Array): AddA {
  if (c.length !== x.v.length)
    throw invalidArgument(`public vector length ${c.length}, expected ${x.v.length}`);
  return { v: me === 0 ? R.add(x.v, c) : x.v.slice() };
}

/** x + s for a public scalar s. */
export function addScalarA(me: number, x: AddA, s: bigint): AddA {
  return { v: me === 0 ? R.addScalar(x.v, s) : x.v.slice() };
}

export function sliceA(x: AddA, start: number, end: number): AddA {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > x.v.length || start > end)
    throw invalidArgument(`slice [${start}, ${end}) outside 0..${x.v.length}`);
  return { v: x.v.slice(start, end) };
}

export function concatA(xs: readonly AddA[]): AddA {
  let n = 0;
  for (const x of xs) n += x.v.length;
  const v = new BigUint64Array(n);
  let off = 0;
  for (const x of xs) {
    v.set(x.v, off);
    off += x.v.length;
  }
  return { v };
}

/** Elements at the given indices (a public selection or permutation). */
export function gatherA(x: AddA, idx: Int32Array): AddA {
  const v = new BigUint64Array(idx.length);
  const s = x.v;
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i]!;
    if (j < 0 || j >= s.length) throw invalidArgument(`gather index ${j} outside 0..${s.length - 1}`);
    v[i] = s[j]!;
  }
  return { v };
}

/** Secret-share a vector with the given randomness: returns the owner's share x − Σ others. */
export function ownerShare(x: BigUint64Array, others: readonly BigUint64Array[]): BigUint64Array {
  const v = x.slice();
  for (const o of others) R.sub(v, o, v);
  return v;
}

/** Reconstruct from all n shares (tests, the dealer). */
export function reconstructA(shares: readonly BigUint64Array[]): BigUint64Array {
  if (shares.length === 0) throw invalidArgument('no shares');
  const out = shares[0]!.slice();
  for (let k = 1; k < shares.length; k++) R.add(out, shares[k]!, out);
  return out;
}

// ---- binary (XOR) shares --------------------------------------------------------------------------

export function xorWords(x: Uint32Array, y: Uint32Array, out?: Uint32Array): Uint32Array {
  if (x.length !== y.length) throw invalidArgument(`word length mismatch: ${x.length} vs ${y.length}`);
  const o = out ?? new Uint32Array(x.length);
  for (let i = 0; i < x.length; i++) o[i] = x[i]! ^ y[i]!;
  return o;
}

export function andWords(x: Uint32Array, y: Uint32Array, out?: Uint32Array): Uint32Array {
  if (x.length !== y.length) throw invalidArgument(`word length mismatch: ${x.length} vs ${y.length}`);
  const o = out ?? new Uint32Array(x.length);
  for (let i = 0; i < x.length; i++) o[i] = x[i]! & y[i]!;
  return o;
}

/** XOR of binary shares (local). */
export function xorB(x: AddB, y: AddB): AddB {
  if (x.n !== y.n || x.w !== y.w) throw invalidArgument('binary share shapes differ');
  return { n: x.n, w: x.w, v: xorWords(x.v, y.v) };
}

/** The sharing of public words: party 0 holds them. */
export function publicWords(me: number, c: Uint32Array): Uint32Array {
  return me === 0 ? c.slice() : new Uint32Array(c.length);
}

/** Mask of valid bits in the last word of a plane (re-exported from src/math/bits.ts). */
export { lastWordMask };

/** Words per plane for n elements (re-exported for callers of this module). */
export { wordsPerPlane };

/** Reconstruct XOR shares (tests, the dealer). */
export function reconstructWords(shares: readonly Uint32Array[]): Uint32Array {
  if (shares.length === 0) throw invalidArgument('no shares');
  const out = shares[0]!.slice();
  for (let k = 1; k < shares.length; k++) xorWords(out, shares[k]!, out);
  return out;
}
