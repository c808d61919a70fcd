import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run4 } from './rep4-helpers.js';
import { randomRing, signed } from './rep3-helpers.js';

const big = (xs: ArrayLike<bigint>): bigint[] => Array.from(xs);

void test('smoke: input, reveal, mul, ltz', async () => {
  const n = 100;
  const x = randomRing(n, 62, true);
  const y = randomRing(n);
  const { out } = await run4(async (s, me) => {
    const sx = await s.input(0, me === 0 ? x : null, n);
    const sy = await s.input(3, me === 3 ? y : null, n);
    const rx = await s.reveal(sx);
    const p = await s.reveal(await s.mul(sx, sy));
    const l = await s.reveal(await s.ltz(sx));
    return { rx, p, l };
  });
  for (const o of out) {
    assert.deepEqual(big(o.rx!), big(x));
    assert.deepEqual(
      big(o.p!),
      big(x).map((v, i) => BigInt.asUintN(64, v * y[i]!)),
    );
    assert.deepEqual(
      big(o.l!),
      big(x).map((v) => (signed(v) < 0n ? 1n : 0n)),
    );
  }
});
