/** Shape arithmetic (public index maps) against the plaintext oracle, by property tests. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  broadcastIndex,
  broadcastShapes,
  permuteIndex,
  resolveReshape,
  sliceIndex,
} from '../../src/tensor/index.js';
import { isShareholdError } from '../../src/errors.js';
import { stridedIndex } from '../../src/tensor/shape.js';
import * as O from './oracle.js';

const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 4 });
const iota = (s: number[]): O.Plain =>
  O.plain(
    Float64Array.from({ length: O.size(s) }, (_, i) => i),
    s,
  );

void test('broadcastShapes / broadcastIndex agree with the NumPy-rule oracle', () => {
  fc.assert(
    fc.property(shapeArb, fc.array(fc.boolean(), { maxLength: 4 }), fc.nat(4), (target, ones, drop) => {
      const from = target.slice(Math.min(drop, target.length)).map((d, i) => (ones[i] ? 1 : d));
      assert.deepEqual(broadcastShapes(from, target), target);
      assert.deepEqual(broadcastShapes(target, from), target);
      assert.deepEqual([...broadcastIndex(from, target)], [...O.bcast(iota(from), target).data]);
    }),
  );
});

void test('incompatible shapes are refused, naming both', () => {
  assert.throws(
    () => broadcastShapes([2, 3], [4, 3]),
    (e: unknown) => isShareholdError(e, 'invalid-argument') && /\[2, 3\] and \[4, 3\]/.test(e.message),
  );
  assert.throws(() => broadcastIndex([3], [2, 4]));
  assert.throws(() => broadcastIndex([1, 1, 3], [1, 3]));
});

void test('permuteIndex and sliceIndex agree with the oracle', () => {
  fc.assert(
    fc.property(
      shapeArb.filter((s) => s.length > 0),
      fc.integer(),
      fc.nat(),
      fc.nat(),
      (shape, seed, s0, s1) => {
        const perm = [...shape.keys()].sort((a, b) => ((a * 7919 + seed) % 13) - ((b * 7919 + seed) % 13));
        const p = permuteIndex(shape, perm);
        const want = O.permute(iota(shape), perm);
        assert.deepEqual(p.shape, want.shape);
        assert.deepEqual([...p.idx], [...want.data]);
        const axis = seed >>> 0 ? (seed >>> 0) % shape.length : 0;
        const len = shape[axis]!;
        const a = s0 % (len + 1);
        const b = a + (s1 % (len - a + 1));
        assert.deepEqual([...sliceIndex(shape, axis, a, b)], [...O.sliceAxis(iota(shape), axis, a, b).data]);
      },
    ),
  );
});

void test('resolveReshape infers one −1 and refuses impossible targets', () => {
  assert.deepEqual(resolveReshape(24, [2, -1, 3]), [2, 4, 3]);
  assert.deepEqual(resolveReshape(1, []), []);
  assert.throws(() => resolveReshape(24, [5, -1]));
  assert.throws(() => resolveReshape(24, [2, 3]));
  assert.throws(() => permuteIndex([2, 3], [0, 0]));
});

void test('stridedIndex equals the element-by-element odometer walk (any strides, zero and repeated runs)', () => {
  const ref = (shape: number[], strides: number[], base: number): number[] => {
    const out: number[] = [];
    const total = shape.reduce((a, b) => a * b, 1);
    const idx = shape.map(() => 0);
    for (let p = 0; p < total; p++) {
      out.push(base + idx.reduce((s, v, a) => s + v * strides[a]!, 0));
      for (let a = shape.length - 1; a >= 0; a--) {
        if (++idx[a]! < shape[a]!) break;
        idx[a] = 0;
      }
    }
    return out;
  };
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 0, maxLength: 4 }),
      fc.array(fc.integer({ min: -7, max: 7 }), { minLength: 4, maxLength: 4 }),
      fc.integer({ min: 0, max: 100 }),
      (shape, st, base) => {
        const strides = st.slice(0, shape.length);
        assert.deepEqual([...stridedIndex(shape, strides, base)], ref(shape, strides, base));
      },
    ),
    { numRuns: 500 },
  );
  // a broadcast bias ([128] to [1000, 128]) and a transposed weight, as the Gemm layers use them
  assert.deepEqual([...broadcastIndex([128], [1000, 128])], ref([1000, 128], [0, 1], 0));
  assert.deepEqual([...permuteIndex([128, 784], [1, 0]).idx], ref([784, 128], [1, 784], 0));
});
