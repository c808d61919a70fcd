/**
 * In-memory RFC 9162 Merkle tree over leaf hashes, built incrementally.
 *
 * Level k stores the hash of every complete, aligned subtree of 2^k leaves, so the tree holds about
 * 2n hashes (64 bytes per leaf). Any MTH(D[a:b]) the RFC's proof algorithms ask for is a right fold of
 * at most log2(n) stored perfect subtrees, so roots and proofs for every past size cost O(log n) hashes.
 */
import { invalidArgument } from '../errors.js';
import { HASH_SIZE, emptyRoot, hashChildren } from './hasher.js';

/** A growable array of 32-byte hashes stored in one buffer. */
class HashLevel {
  #buf = new Uint8Array(HASH_SIZE * 16);
  #count = 0;

  get count(): number {
    return this.#count;
  }

  push(h: Uint8Array): void {
    const need = (this.#count + 1) * HASH_SIZE;
    if (need > this.#buf.length) {
      const next = new Uint8Array(Math.max(need, this.#buf.length * 2));
      next.set(this.#buf.subarray(0, this.#count * HASH_SIZE));
      this.#buf = next;
    }
    this.#buf.set(h, this.#count * HASH_SIZE);
    this.#count++;
  }

  /** A view of hash `i` (valid until the next push). */
  view(i: number): Uint8Array {
    return this.#buf.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE);
  }

  truncate(count: number): void {
    this.#count = Math.min(this.#count, count);
  }
}

/** Largest power of two strictly less than `n` (n ≥ 2), as in RFC 9162 §2.1.1. */
export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false;
  while (n % 2 === 0) n /= 2;
  return n === 1;
}

function log2Exact(powerOfTwo: number): number {
  return Math.round(Math.log2(powerOfTwo));
}

export class MerkleTree {
  readonly #levels: HashLevel[] = [new HashLevel()];
  #size = 0;

  /** Number of leaves. */
  get size(): number {
    return this.#size;
  }

  /**
   * Append one leaf hash (already H(0x00 ‖ entry)).
   * @throws ShareholdError `invalid-argument` if `leafHash` is not 32 bytes.
   */
  append(leafHash: Uint8Array): void {
    if (leafHash.length !== HASH_SIZE) throw invalidArgument(`leaf hash must be ${HASH_SIZE} bytes`);
    const level0 = this.#levels[0] as HashLevel;
    level0.push(leafHash);
    let idx = this.#size;
    let k = 0;
    // Node idx at level k completes its parent when it is a right child (odd index).
    while (idx % 2 === 1) {
      const lower = this.#levels[k] as HashLevel;
      const parent = hashChildren(lower.view(idx - 1), lower.view(idx));
      k++;
      if (this.#levels.length <= k) this.#levels.push(new HashLevel());
      (this.#levels[k] as HashLevel).push(parent);
      idx = (idx - 1) / 2;
    }
    this.#size++;
  }

  /**
   * The stored leaf hash at `index` (a copy).
   * @throws ShareholdError `invalid-argument` if `index` is out of range.
   */
  leafHash(index: number): Uint8Array {
    this.#checkRange(index, 0, this.#size - 1, 'index');
    return (this.#levels[0] as HashLevel).view(index).slice();
  }

  /**
   * Root hash MTH(D[0:size]) of the tree at a past or current size (default: current).
   * @throws ShareholdError `invalid-argument` if `size` exceeds the tree size.
   */
  root(size: number = this.#size): Uint8Array {
    this.#checkRange(size, 0, this.#size, 'size');
    if (size === 0) return emptyRoot();
    return this.subtreeHash(0, size);
  }

  /**
   * MTH(D[start:end]) for 0 ≤ start < end ≤ size, where start is aligned as in the RFC recursion
   * (a multiple of the largest power of two below end − start, which every call from the proof
   * algorithms satisfies); unaligned ranges are computed by splitting.
   * @throws ShareholdError `invalid-argument` on an empty or out-of-range interval.
   */
  subtreeHash(start: number, end: number): Uint8Array {
    this.#checkRange(start, 0, this.#size - 1, 'start');
    this.#checkRange(end, start + 1, this.#size, 'end');
    // Collect the perfect subtrees covering [start, end) left to right, then fold from the right.
    const parts: Uint8Array[] = [];
    let s = start;
    while (s < end) {
      const n = end - s;
      let k = isPowerOfTwo(n) ? n : largestPowerOfTwoBelow(n);
      while (s % k !== 0) k /= 2; // unaligned start: take the largest aligned block
      parts.push((this.#levels[log2Exact(k)] as HashLevel).view(s / k));
      s += k;
    }
    let h = parts[parts.length - 1] as Uint8Array;
    for (let i = parts.length - 2; i >= 0; i--) h = hashChildren(parts[i] as Uint8Array, h);
    return h.slice();
  }

  /**
   * RFC 9162 §2.1.3.1 inclusion proof (audit path) for leaf `index` in the tree of `size` leaves,
   * ordered from the leaf upwards.
   * @throws ShareholdError `invalid-argument` unless 0 ≤ index < size ≤ tree size.
   */
  inclusionProof(index: number, size: number = this.#size): Uint8Array[] {
    this.#checkRange(size, 1, this.#size, 'size');
    this.#checkRange(index, 0, size - 1, 'index');
    const topDown: Uint8Array[] = [];
    let start = 0;
    let end = size;
    while (end - start > 1) {
      const k = largestPowerOfTwoBelow(end - start);
      if (index < start + k) {
        topDown.push(this.subtreeHash(start + k, end));
        end = start + k;
      } else {
        topDown.push(this.subtreeHash(start, start + k));
        start += k;
      }
    }
    return topDown.reverse();
  }

  /**
   * RFC 9162 §2.1.4.1 consistency proof between the trees of `size1` and `size2` leaves
   * (empty when size1 = size2).
   * @throws ShareholdError `invalid-argument` unless 0 < size1 ≤ size2 ≤ tree size.
   */
  consistencyProof(size1: number, size2: number = this.#size): Uint8Array[] {
    this.#checkRange(size2, 1, this.#size, 'size2');
    this.#checkRange(size1, 1, size2, 'size1');
    if (size1 === size2) return [];
    const topDown: Uint8Array[] = [];
    let m = size1;
    let start = 0;
    let end = size2;
    let complete = true; // the RFC's `b`: the subtree is known to the verifier from root1
    while (m !== end - start) {
      const k = largestPowerOfTwoBelow(end - start);
      if (m <= k) {
        topDown.push(this.subtreeHash(start + k, end));
        end = start + k;
      } else {
        topDown.push(this.subtreeHash(start, start + k));
        m -= k;
        start += k;
        complete = false;
      }
    }
    if (!complete) topDown.push(this.subtreeHash(start, end));
    return topDown.reverse();
  }

  /** Drop leaves past `size` (used to roll back an append whose commit failed). */
  truncate(size: number): void {
    this.#checkRange(size, 0, this.#size, 'size');
    let count = size;
    for (const level of this.#levels) {
      level.truncate(count);
      count = Math.floor(count / 2);
    }
    this.#size = size;
  }

  #checkRange(v: number, lo: number, hi: number, what: string): void {
    if (!Number.isSafeInteger(v) || v < lo || v > hi) {
      throw invalidArgument(`${what} ${v} out of range [${lo}, ${hi}]`, { [what]: v, treeSize: this.#size });
    }
  }
}
