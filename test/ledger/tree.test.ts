/**
 * The fast incremental tree against the literal RFC 9162 reference (test/ledger/rfc-reference.ts), and
 * every generated proof against the verifier, with fast-check over random sizes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import {
  MerkleTree,
  hashLeaf,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from '../../src/ledger/index.js';
import { isShareholdError } from '../../src/errors.js';
import { mth, path, proof as refProof } from './rfc-reference.js';

function build(entries: Uint8Array[]): MerkleTree {
  const t = new MerkleTree();
  for (const e of entries) t.append(hashLeaf(e));
  return t;
}

function entries(n: number): Uint8Array[] {
  return Array.from(
    { length: n },
    (_, i) => new Uint8Array([...Buffer.from(`entry-${i}-`), ...randomBytes(4)]),
  );
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const hexes = (l: Uint8Array[]): string[] => l.map(hex);

function rejects(f: () => void): boolean {
  try {
    f();
    return false;
  } catch (e) {
    assert.ok(isShareholdError(e, 'proof-invalid'), String(e));
    return true;
  }
}

function flipBit(list: Uint8Array[], which: number, bit: number): Uint8Array[] {
  return list.map((h, i) => {
    if (i !== which) return h;
    const c = h.slice();
    c[bit >> 3] = (c[bit >> 3] as number) ^ (1 << (bit & 7));
    return c;
  });
}

void test('empty tree root is SHA-256 of the empty string', () => {
  assert.equal(
    hex(new MerkleTree().root()),
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  );
});

void test('roots, inclusion and consistency proofs equal the RFC reference for every size ≤ 40', () => {
  const d = entries(40);
  const t = build(d);
  for (let n = 0; n <= 40; n++) {
    const prefix = d.slice(0, n);
    assert.equal(hex(t.root(n)), hex(mth(prefix)), `root(${n})`);
    for (let m = 0; m < n; m++) {
      assert.deepEqual(hexes(t.inclusionProof(m, n)), hexes(path(m, prefix)), `PATH(${m}, ${n})`);
      if (m > 0)
        assert.deepEqual(hexes(t.consistencyProof(m, n)), hexes(refProof(m, prefix)), `PROOF(${m}, ${n})`);
    }
  }
});

void test('property: for random sizes every proof verifies and any flipped bit fails', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 300 }), fc.nat(), fc.nat(), fc.nat(), (n, a, b, bitSeed) => {
      const d = entries(n);
      const t = build(d);
      const root = t.root();
      assert.equal(hex(root), hex(mth(d)));
      const index = a % n;
      const leaf = hashLeaf(d[index] as Uint8Array);
      const p = t.inclusionProof(index, n);
      verifyInclusion(index, n, leaf, p, root);
      assert.equal(hex(rootFromInclusionProof(index, n, leaf, p)), hex(root));
      if (p.length > 0) {
        const bad = flipBit(p, bitSeed % p.length, bitSeed % 256);
        assert.ok(rejects(() => verifyInclusion(index, n, leaf, bad, root)));
      }
      assert.ok(
        rejects(() => verifyInclusion(index, n, flipBit([leaf], 0, bitSeed % 256)[0] as Uint8Array, p, root)),
      );
      assert.ok(
        rejects(() => verifyInclusion(index, n, leaf, p, flipBit([root], 0, bitSeed % 256)[0] as Uint8Array)),
      );

      const m = 1 + (b % n);
      const root1 = t.root(m);
      const c = t.consistencyProof(m, n);
      assert.deepEqual(hexes(c), hexes(refProof(m, d)));
      verifyConsistency(m, n, c, root1, root);
      if (c.length > 0) {
        const bad = flipBit(c, bitSeed % c.length, (bitSeed >> 3) % 256);
        assert.ok(rejects(() => verifyConsistency(m, n, bad, root1, root)));
      }
      if (m < n) {
        assert.ok(
          rejects(() =>
            verifyConsistency(m, n, c, flipBit([root1], 0, bitSeed % 256)[0] as Uint8Array, root),
          ),
        );
        assert.ok(
          rejects(() =>
            verifyConsistency(m, n, c, root1, flipBit([root], 0, bitSeed % 256)[0] as Uint8Array),
          ),
        );
      }
    }),
    { numRuns: 150 },
  );
});

void test('every inclusion proof of every leaf verifies for sizes 1..70', () => {
  const d = entries(70);
  const t = build(d);
  for (let n = 1; n <= 70; n++) {
    const root = t.root(n);
    for (let i = 0; i < n; i++) verifyInclusion(i, n, t.leafHash(i), t.inclusionProof(i, n), root);
    for (let m = 1; m <= n; m++) verifyConsistency(m, n, t.consistencyProof(m, n), t.root(m), root);
  }
});

void test('truncate rolls the tree back to an earlier size', () => {
  const d = entries(37);
  const t = build(d);
  const r20 = t.root(20);
  t.truncate(20);
  assert.equal(t.size, 20);
  assert.equal(hex(t.root()), hex(r20));
  for (const e of d.slice(20)) t.append(hashLeaf(e));
  assert.equal(hex(t.root()), hex(mth(d)));
});
