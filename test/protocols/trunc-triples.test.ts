/**
 * Truncation triples ([r], [⌊(r mod 2^63)/2^f⌋], [msb r]) of rep3 and rep4, opened and checked
 * exactly against the plaintext relation for several f (incl. f ≥ 32) and sizes that are not
 * multiples of 32; r must look uniform (every bit set about half the time); offline bytes and rounds
 * per batch are bounded by the documented costs (docs/rep3.md ≈ 66 B, docs/rep4.md ≈ 79 B; the bounds
 * leave room for framing at these small sizes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run3 } from './rep3-helpers.js';
import { run4 } from './rep4-helpers.js';
import { genTruncTriples as gen3 } from '../../src/protocols/rep3/trunc.js';
import { genTruncTriples as gen4 } from '../../src/protocols/rep4/trunc.js';

interface Opened {
  r: BigUint64Array;
  h: BigUint64Array;
  m: BigUint64Array;
}

function check(o: Opened, n: number, f: number): void {
  const M63 = (1n << 63n) - 1n;
  let bad = 0;
  const ones = new Array<number>(64).fill(0);
  for (let i = 0; i < n; i++) {
    const r = o.r[i]!;
    if (o.h[i]! !== (r & M63) >> BigInt(f)) bad++;
    if (o.m[i]! !== r >> 63n) bad++;
    for (let j = 0; j < 64; j++) if ((r >> BigInt(j)) & 1n) ones[j]!++;
  }
  assert.equal(bad, 0, `${bad} wrong triple components (f=${f})`);
  // uniformity sanity: each bit of r is 1 in 50 % ± 5σ of the triples
  const sigma = Math.sqrt(n) / 2;
  for (let j = 0; j < 64; j++)
    assert.ok(Math.abs(ones[j]! - n / 2) < 5 * sigma, `bit ${j} of r set ${ones[j]} times of ${n}`);
}

for (const [n, f] of [
  [1000, 16],
  [4097, 1],
  [777, 31],
  [2048, 32],
  [1500, 40],
]) {
  void test(`rep3 truncation triples n=${n} f=${f}: exact relation, ≤ 10 rounds, < 75 B per triple`, async () => {
    const { out, stats } = await run3(async (s) => {
      const t = await gen3(s.ctx, s.scope.child('t'), n!, f!);
      return {
        r: (await s.reveal(t.r))!,
        h: (await s.reveal(t.rh))!,
        m: (await s.reveal(t.m))!,
      };
    });
    for (const o of out) check(o, n!, f!);
    // 3 reveals of n elements follow the generation: 8 B each per party
    const perTriple = Math.max(...stats.map((s) => s.bytesSent)) / n! - 24;
    assert.ok(perTriple < 75, `${perTriple.toFixed(1)} B per triple`);
    assert.ok(Math.max(...stats.map((s) => s.rounds)) <= 10 + 3 + 1);
  });

  void test(`rep4 truncation triples n=${n} f=${f}: exact relation, < 90 B per triple`, async () => {
    const { out, stats } = await run4(async (s) => {
      const t = await gen4(s.ctx, s.scope.child('t'), n!, f!);
      return {
        r: (await s.reveal(t.r))!,
        h: (await s.reveal(t.h))!,
        m: (await s.reveal(t.m))!,
      };
    });
    for (const o of out) check(o, n!, f!);
    // 3 reveals of n elements follow the generation: 8 B each per party (one sender per receiver)
    const perTriple = Math.max(...stats.map((s) => s.bytesSent)) / n! - 24;
    assert.ok(perTriple < 90, `${perTriple.toFixed(1)} B per triple`);
  });
}
