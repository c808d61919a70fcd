/**
 * toPlanesOf (values written into a reused buffer) gives the planes of toPlanes on the same values,
 * on both kernel backends, across lengths around the wasm threshold and the 64-element blocks, and
 * across calls of decreasing length (the reused buffer's stale tail must not leak into the planes).
 */
import assert from 'node:assert/strict';
import { randomFillSync } from 'node:crypto';
import { test } from 'node:test';
import { toPlanes, toPlanesOf } from '../../src/math/bits.js';
import { withBackend, wasmAvailable } from '../../src/math/kernels.js';

function rand(n: number): BigUint64Array {
  const x = new BigUint64Array(n);
  randomFillSync(x);
  return x;
}

void test('toPlanesOf equals toPlanes of the filled values (both backends, lengths 1..3000, shrinking)', () => {
  const backends = wasmAvailable() ? (['wasm', 'ts'] as const) : (['ts'] as const);
  for (const b of backends)
    withBackend(b, () => {
      for (const n of [3000, 1000, 300, 257, 256, 255, 129, 64, 63, 33, 1]) {
        const x = rand(n);
        for (const [w, lo] of [
          [64, 0],
          [23, 0],
          [20, 30],
        ] as const) {
          const got = toPlanesOf(n, (o) => o.set(x), w, lo);
          assert.deepEqual([...got], [...toPlanes(x, w, lo)], `${b} n=${n} w=${w} lo=${lo}`);
        }
      }
    });
});
