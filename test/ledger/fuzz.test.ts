/**
 * The client verifier is the security boundary (a replica, a peer or a server may lie): fuzz it.
 * A malicious server's mutated proofs, indexes, leaves, sizes and roots must never verify unless the
 * mutated claim is identical to a valid one. Sizes and roots come in pairs the client trusts (from
 * a co-signed checkpoint), so a size mutation comes with the true root of the claimed size; the
 * receipt-level test covers swapping in other genuinely co-signed checkpoints.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  Ledger,
  MemoryStorage,
  MerkleTree,
  cosignature,
  addSignatures,
  emptyRoot,
  generateIdentity,
  hashLeaf,
  makeReceipt,
  parseNote,
  parseRoster,
  rosterToJson,
  signCheckpoint,
  verifyConsistency,
  verifyInclusion,
  verifyReceipt,
  type Receipt,
} from '../../src/ledger/index.js';
import { isShareholdError } from '../../src/errors.js';
import { nthEvent } from './helpers.js';

const MAX = 160;
const tree = new MerkleTree();
for (let i = 0; i < MAX; i++) tree.append(hashLeaf(new TextEncoder().encode(`leaf ${i}`)));

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const same = (a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean =>
  a.length === b.length && a.every((x, i) => hex(x) === hex(b[i] as Uint8Array));

function accepts(f: () => void): boolean {
  try {
    f();
    return true;
  } catch (e) {
    assert.ok(isShareholdError(e, 'proof-invalid'), `unexpected: ${String(e)}`);
    return false;
  }
}

const rootOf = (size: number): Uint8Array =>
  size >= 0 && size <= MAX ? tree.root(size) : new Uint8Array(32).fill(size & 0xff);

function validInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!(Number.isSafeInteger(index) && index >= 0 && index < size && size <= MAX)) return false;
  return (
    hex(leaf) === hex(tree.leafHash(index)) &&
    same(proof, tree.inclusionProof(index, size)) &&
    hex(root) === hex(tree.root(size))
  );
}

function validConsistency(
  s1: number,
  s2: number,
  proof: Uint8Array[],
  r1: Uint8Array,
  r2: Uint8Array,
): boolean {
  if (!(Number.isSafeInteger(s1) && s1 >= 0 && s1 <= s2 && s2 <= MAX)) return false;
  if (s1 === 0) return s2 === 0 && proof.length === 0 && hex(r1) === hex(emptyRoot()) && hex(r2) === hex(r1);
  return (
    same(proof, tree.consistencyProof(s1, s2)) &&
    hex(r1) === hex(tree.root(s1)) &&
    hex(r2) === hex(tree.root(s2))
  );
}

function flip(h: Uint8Array, bit: number): Uint8Array {
  const c = h.slice();
  c[(bit >> 3) % 32] = (c[(bit >> 3) % 32] as number) ^ (1 << (bit & 7));
  return c;
}

/** One random change to a proof list. */
function mutateProof(p: Uint8Array[], kind: number, a: number, b: number): Uint8Array[] {
  const q = [...p];
  const pick = (x: number): number => (q.length ? x % q.length : 0);
  switch (kind % 7) {
    case 0:
      if (q.length) q[pick(a)] = flip(q[pick(a)] as Uint8Array, b);
      break;
    case 1:
      q.splice(pick(a), 1);
      break;
    case 2:
      q.splice(a % (q.length + 1), 0, tree.leafHash(b % MAX));
      break;
    case 3:
      if (q.length > 1) [q[pick(a)], q[pick(b)]] = [q[pick(b)] as Uint8Array, q[pick(a)] as Uint8Array];
      break;
    case 4:
      q.push(q[pick(a)] ?? emptyRoot());
      break;
    case 5:
      if (q.length) q[pick(a)] = tree.root(1 + (b % MAX));
      break;
    default:
      q.reverse();
  }
  return q;
}

void test('fuzz: mutated inclusion claims never verify unless identical to a valid one', () => {
  let rejected = 0;
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: MAX }),
      fc.nat(),
      fc.integer({ min: 0, max: 5 }),
      fc.nat(),
      fc.nat(),
      fc.integer({ min: -3, max: 3 }),
      (size, idxSeed, what, a, b, delta) => {
        const index = idxSeed % size;
        let [i, n, leaf, proof, root] = [
          index,
          size,
          tree.leafHash(index),
          tree.inclusionProof(index, size),
          tree.root(size),
        ];
        assert.ok(accepts(() => verifyInclusion(i, n, leaf, proof, root)));
        switch (what) {
          case 0:
            proof = mutateProof(proof, a, b, a ^ b);
            break;
          case 1:
            i = delta === 0 ? a % (size + 2) : index + delta;
            break;
          case 2:
            leaf = a % 2 ? flip(leaf, b) : tree.leafHash(a % MAX);
            break;
          case 3: // claim another size, with the true root of that size
            n = delta === 0 ? 1 + (a % (MAX + 4)) : size + delta;
            root = rootOf(n);
            break;
          case 4:
            root = a % 2 ? flip(root, b) : tree.root(a % (MAX + 1));
            break;
          default:
            i = a % MAX;
            leaf = tree.leafHash(i);
        }
        const ok = accepts(() => verifyInclusion(i, n, leaf, proof, root));
        assert.equal(
          ok,
          validInclusion(i, n, leaf, proof, root),
          JSON.stringify({ index, size, i, n, what }),
        );
        if (!ok) rejected++;
      },
    ),
    { numRuns: 1500 },
  );
  assert.ok(rejected > 1000, `only ${rejected} mutants rejected`);
});

void test('fuzz: mutated consistency claims never verify unless identical to a valid one', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: MAX }),
      fc.nat(),
      fc.integer({ min: 0, max: 4 }),
      fc.nat(),
      fc.nat(),
      fc.integer({ min: -3, max: 3 }),
      (size2, s1seed, what, a, b, delta) => {
        const size1 = 1 + (s1seed % size2);
        let [m, n, proof, r1, r2] = [
          size1,
          size2,
          tree.consistencyProof(size1, size2),
          tree.root(size1),
          tree.root(size2),
        ];
        assert.ok(accepts(() => verifyConsistency(m, n, proof, r1, r2)));
        switch (what) {
          case 0:
            proof = mutateProof(proof, a, b, a ^ b);
            break;
          case 1:
            m = delta === 0 ? a % (size2 + 2) : size1 + delta;
            r1 = rootOf(Math.max(0, m));
            if (m === 0) r1 = emptyRoot();
            break;
          case 2:
            n = delta === 0 ? a % (MAX + 3) : size2 + delta;
            r2 = n === 0 ? emptyRoot() : rootOf(Math.max(0, n));
            break;
          case 3:
            r1 = a % 2 ? flip(r1, b) : tree.root(1 + (a % MAX));
            break;
          default:
            r2 = a % 2 ? flip(r2, b) : tree.root(1 + (a % MAX));
        }
        const ok = accepts(() => verifyConsistency(m, n, proof, r1, r2));
        assert.equal(ok, validConsistency(m, n, proof, r1, r2), JSON.stringify({ size1, size2, m, n, what }));
      },
    ),
    { numRuns: 1500 },
  );
});

void test('an inclusion proof does not bind the size: (0, 5) also chains for 6, so sizes must come from checkpoints', () => {
  const p = tree.inclusionProof(0, 5);
  verifyInclusion(0, 6, tree.leafHash(0), p, tree.root(5)); // accepted: a root-size pair the client must never form
  assert.equal(
    accepts(() => verifyInclusion(0, 6, tree.leafHash(0), p, tree.root(6))),
    false,
  );
});

void test('fuzz: mutated receipts (entry, index, proof, or another genuine checkpoint) never verify unless valid', async () => {
  const log = generateIdentity('log.example');
  const w = generateIdentity('w.example');
  const roster = parseRoster(
    rosterToJson({ origin: 'example.org/fuzz', log: 'log.example', quorum: 1, members: [log, w] }),
  );
  const ledger = await Ledger.open({ storage: new MemoryStorage(), origin: roster.origin });
  const notes: string[] = [];
  for (let i = 0; i < 40; i++) {
    await ledger.append(nthEvent(i));
    const note = signCheckpoint({ origin: roster.origin, size: ledger.size, root: ledger.root() }, log);
    notes.push(addSignatures(note, [cosignature(parseNote(note).text, w, 1700000000 + i)]));
  }
  const valid = new Set<string>();
  const receipts = new Map<string, Receipt>();
  for (let s = 1; s <= 40; s++) {
    for (let i = 0; i < s; i++) {
      const r = await makeReceipt(ledger, i, notes[s - 1] as string);
      valid.add(JSON.stringify(r));
      receipts.set(`${i}/${s}`, r);
    }
  }
  const verdict = (r: unknown): boolean => {
    try {
      verifyReceipt(r, roster);
      return true;
    } catch (e) {
      assert.ok(isShareholdError(e), String(e));
      return false;
    }
  };
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.nat(),
      fc.integer({ min: 0, max: 4 }),
      fc.nat(),
      fc.nat(),
      (s, iseed, what, a, b) => {
        const base = receipts.get(`${iseed % s}/${s}`) as Receipt;
        assert.ok(verdict(base));
        const r: Receipt = { ...base, proof: [...base.proof] };
        switch (what) {
          case 0: // another genuine, co-signed checkpoint (another size)
            r.checkpoint = notes[a % 40] as string;
            break;
          case 1:
            r.index = a % 41;
            break;
          case 2: {
            const k = a % r.entry.length;
            r.entry =
              r.entry.slice(0, k) +
              String.fromCharCode(r.entry.charCodeAt(k) ^ (1 + (b % 8))) +
              r.entry.slice(k + 1);
            break;
          }
          case 3:
            r.proof = mutateProof(
              r.proof.map((p) => new Uint8Array(Buffer.from(p, 'base64'))),
              a,
              b,
              a + b,
            ).map((p) => Buffer.from(p).toString('base64'));
            break;
          default: {
            const lines = r.checkpoint.split('\n');
            lines[1] = String(Number(lines[1]) + 1 + (a % 3)); // claim a larger size under the same signatures
            r.checkpoint = lines.join('\n');
          }
        }
        assert.equal(verdict(r), valid.has(JSON.stringify(r)), JSON.stringify({ s, what }));
      },
    ),
    { numRuns: 600 },
  );
});
