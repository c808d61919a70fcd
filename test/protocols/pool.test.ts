/**
 * The preprocessing pool: takes reserve their slices in call order, a batch that cannot serve a
 * request is replaced, `taken` counts what consumers used (rounded to the alignment), and a batch
 * generated ahead (`prefetch`) serves the first request the current one cannot, without a new
 * generation, only when it is large enough.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pool } from '../../src/protocols/pool.js';

/** A pool of consecutive integers: batch b holds [1000·b, 1000·b + n). */
function counting(align = 1, minBatch = 1): { pool: Pool<number[]>; calls: number[] } {
  const calls: number[] = [];
  const pool = new Pool<number[]>(
    async (n) => {
      const b = calls.length;
      calls.push(n);
      await new Promise((r) => setTimeout(r, 1));
      return Array.from({ length: n }, (_, i) => 1000 * b + i);
    },
    (t, a, b) => t.slice(a, b),
    align,
    minBatch,
  );
  return { pool, calls };
}

void test('Pool: slices in call order, refill on shortage, taken counts aligned takes', async () => {
  const { pool, calls } = counting(4, 8);
  await pool.ensure(10);
  const [a, b] = await Promise.all([pool.take(3), pool.take(5)]);
  assert.deepEqual(a, [0, 1, 2]);
  assert.deepEqual(b, [4, 5, 6, 7, 8]); // the second take starts on a multiple of 4
  assert.equal(pool.taken, 12);
  const c = await pool.take(4); // only 10 − 12 < 4 left: a new batch (minBatch 8)
  assert.deepEqual(c, [1000, 1001, 1002, 1003]);
  assert.deepEqual(calls, [10, 8]);
  assert.equal(pool.generated, 18);
});

void test('Pool.prefetch: the batch generated ahead serves the next shortage, only if large enough', async () => {
  const { pool, calls } = counting();
  await pool.ensure(5);
  pool.prefetch(20);
  pool.prefetch(50); // one at a time: ignored
  assert.deepEqual(calls, [5, 20]);
  assert.deepEqual(await pool.take(4), [0, 1, 2, 3]);
  // 1 left: a request for 6 switches to the prefetched batch (no new generation)
  assert.deepEqual(await pool.take(6), [1000, 1001, 1002, 1003, 1004, 1005]);
  await pool.ensure(14); // exactly what is left of it
  assert.deepEqual(calls, [5, 20]);
  assert.deepEqual(
    await pool.take(14),
    Array.from({ length: 14 }, (_, i) => 1006 + i),
  );
  // a prefetched batch too small for the request is kept, and the request generates its own
  pool.prefetch(3);
  assert.deepEqual(
    await pool.take(10),
    Array.from({ length: 10 }, (_, i) => 3000 + i),
  );
  assert.deepEqual(calls, [5, 20, 3, 10]);
  assert.deepEqual(await pool.take(3), [2000, 2001, 2002]);
  assert.equal(pool.generated, 38);
  assert.equal(pool.taken, 37);
});
