/**
 * Client-side verification of RFC 9162 inclusion and consistency proofs.
 *
 * This is the security boundary of the ledger: a replica, a peer or a server may lie, and everything a
 * member accepts goes through these functions. They follow the algorithms of RFC 9162 §2.1.3.2 and
 * §2.1.4.2 in the decomposed form used by transparency-dev/merkle (an inclusion path splits into an
 * "inner" part below the point where the paths to `index` and `size − 1` diverge and a "border" part
 * along the right edge). Every failure throws `ShareholdError` with code `proof-invalid`.
 *
 * Note: an inclusion proof does not bind the tree size on its own (the proof for index 0 in a tree of
 * 5 leaves also chains to the same value for size 6). The size and root must come together from a
 * signed checkpoint; `verifyReceipt` in receipt.ts does that.
 */
import { ShareholdError } from '../errors.js';
import { HASH_SIZE, bytesEqual, emptyRoot, hashChildren, toHex } from './hasher.js';

function fail(reason: string, details: Record<string, unknown> = {}): ShareholdError {
  return new ShareholdError('proof-invalid', reason, details);
}

function checkCount(v: number, what: string): bigint {
  if (!Number.isSafeInteger(v) || v < 0)
    throw fail(`${what} must be a non-negative safe integer`, { [what]: v });
  return BigInt(v);
}

function checkHashes(proof: readonly Uint8Array[]): void {
  if (!Array.isArray(proof)) throw fail('proof must be an array of hashes');
  proof.forEach((h, i) => {
    if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
      throw fail(`proof element ${i} is not a ${HASH_SIZE}-byte hash`, { element: i });
    }
  });
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

function popCount(x: bigint): number {
  let n = 0;
  for (const c of x.toString(2)) if (c === '1') n++;
  return n;
}

/**
 * Split the inclusion proof of `index` in a tree of `size` leaves into its inner and border lengths.
 * Requires index < size.
 */
function decompose(index: bigint, size: bigint): { inner: number; border: number } {
  const inner = bitLength(index ^ (size - 1n));
  const border = popCount(index >> BigInt(inner));
  return { inner, border };
}

/** Hash up along the path of `index`, proof hashes ordered from the bottom. */
function chainInner(seed: Uint8Array, proof: readonly Uint8Array[], index: bigint): Uint8Array {
  let h = seed;
  proof.forEach((p, i) => {
    h = ((index >> BigInt(i)) & 1n) === 0n ? hashChildren(h, p) : hashChildren(p, h);
  });
  return h;
}

/** Like chainInner, but only the siblings on the left count: it rebuilds the older, smaller tree. */
function chainInnerRight(seed: Uint8Array, proof: readonly Uint8Array[], index: bigint): Uint8Array {
  let h = seed;
  proof.forEach((p, i) => {
    if (((index >> BigInt(i)) & 1n) === 1n) h = hashChildren(p, h);
  });
  return h;
}

/** Along the right border every sibling is on the left. */
function chainBorderRight(seed: Uint8Array, proof: readonly Uint8Array[]): Uint8Array {
  let h = seed;
  for (const p of proof) h = hashChildren(p, h);
  return h;
}

/**
 * The root hash implied by an inclusion proof for the leaf `leafHash` at `index` in a tree of `size`
 * leaves. It does not check any root: compare the result with a trusted one (or use verifyInclusion).
 * @throws ShareholdError `proof-invalid` if index ≥ size, a size or index is not a safe non-negative
 *   integer, the leaf hash or a proof element is not 32 bytes, or the proof has the wrong length.
 */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array {
  const i = checkCount(index, 'index');
  const n = checkCount(size, 'size');
  if (i >= n) throw fail(`index ${index} is beyond tree size ${size}`, { index, size });
  if (!(leafHash instanceof Uint8Array) || leafHash.length !== HASH_SIZE) {
    throw fail(`leaf hash must be ${HASH_SIZE} bytes`);
  }
  checkHashes(proof);
  const { inner, border } = decompose(i, n);
  if (proof.length !== inner + border) {
    throw fail(`inclusion proof has ${proof.length} hashes, expected ${inner + border}`, { index, size });
  }
  const h = chainInner(leafHash, proof.slice(0, inner), i);
  return chainBorderRight(h, proof.slice(inner));
}

/**
 * Check that `leafHash` is the leaf at `index` of the tree of `size` leaves whose root is `root`.
 * Returns normally when the proof holds.
 * @throws ShareholdError `proof-invalid` for any malformed input (see rootFromInclusionProof) and when
 *   the recomputed root differs from `root`.
 */
export function verifyInclusion(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  const calculated = rootFromInclusionProof(index, size, leafHash, proof);
  if (!(root instanceof Uint8Array) || !bytesEqual(calculated, root)) {
    throw fail('inclusion proof does not lead to the expected root', {
      index,
      size,
      calculated: toHex(calculated),
    });
  }
}

/**
 * The root of the tree of `size2` leaves implied by a consistency proof from the tree of `size1`
 * leaves with root `root1`; root1 itself is checked against the proof on the way.
 * When size1 = size2 the proof must be empty and the result is root1.
 * @throws ShareholdError `proof-invalid` if size1 > size2, size1 = 0 < size2 (a proof from the empty
 *   tree is meaningless), a size-0 root is not the empty-tree hash, the proof has the wrong length or a
 *   wrong-sized element, or the proof does not rebuild root1.
 */
export function rootFromConsistencyProof(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
): Uint8Array {
  const m = checkCount(size1, 'size1');
  const n = checkCount(size2, 'size2');
  checkHashes(proof);
  if (!(root1 instanceof Uint8Array)) throw fail('root1 must be bytes');
  if (n < m) throw fail(`size2 ${size2} is smaller than size1 ${size1}`, { size1, size2 });
  if (m === n) {
    if (proof.length !== 0) throw fail('sizes are equal but the consistency proof is not empty', { size1 });
    if (m === 0n && !bytesEqual(root1, emptyRoot())) throw fail('root of the empty tree is not H()');
    return root1;
  }
  if (m === 0n) throw fail('a consistency proof from the empty tree is meaningless', { size2 });
  if (proof.length === 0) throw fail('empty consistency proof', { size1, size2 });
  if (root1.length !== HASH_SIZE) throw fail(`root1 must be ${HASH_SIZE} bytes`);

  const d = decompose(m - 1n, n);
  // Levels below `shift` are shared by both trees: the walk starts at the subtree of 2^shift leaves
  // that ends at leaf size1 − 1.
  const shift = bitLength(m & -m) - 1;
  const inner = d.inner - shift;
  // If size1 is itself 2^shift, that subtree is the whole old tree (root1); otherwise it is proof[0].
  const seedIsRoot1 = m === 1n << BigInt(shift);
  const start = seedIsRoot1 ? 0 : 1;
  if (proof.length !== start + inner + d.border) {
    throw fail(`consistency proof has ${proof.length} hashes, expected ${start + inner + d.border}`, {
      size1,
      size2,
    });
  }
  const seed = seedIsRoot1 ? root1 : (proof[0] as Uint8Array);
  const rest = proof.slice(start);
  const mask = (m - 1n) >> BigInt(shift);

  const hash1 = chainBorderRight(chainInnerRight(seed, rest.slice(0, inner), mask), rest.slice(inner));
  if (!bytesEqual(hash1, root1)) {
    throw fail('consistency proof does not rebuild root1', { size1, size2, calculated: toHex(hash1) });
  }
  return chainBorderRight(chainInner(seed, rest.slice(0, inner), mask), rest.slice(inner));
}

/**
 * Check that the tree of `size2` leaves with root `root2` extends the tree of `size1` leaves with
 * root `root1` (append-only). Returns normally when the proof holds.
 * @throws ShareholdError `proof-invalid` for any malformed input (see rootFromConsistencyProof) and
 *   when the recomputed root2 differs.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  const calculated = rootFromConsistencyProof(size1, size2, proof, root1);
  if (!(root2 instanceof Uint8Array) || !bytesEqual(calculated, root2)) {
    throw fail('consistency proof does not lead to root2', { size1, size2 });
  }
}
