/**
 * The rep3 comparison changes made for inference (src/protocols/rep3/compare.ts, a2b.ts): ReLU with
 * the product fused into the bit-injection round, and the sign read from k < 64 bits when the caller
 * guarantees |x| < 2^(k−1). Exact results against plaintext (including the range edges), and the
 * online rounds and bytes per width.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { run3, randomRing } from '../protocols/rep3-helpers.js';

/** Signed values uniform in (−2^(k−1), 2^(k−1)), plus the edges and zero. */
function valuesFor(k: number, n: number): BigUint64Array {
  const v = randomRing(n, k, true);
  const lim = (1n << BigInt(k - 1)) - 1n;
  const edges = [0n, 1n, -1n, lim, -lim, -lim - 1n, lim - 1n, 2n, -2n];
  edges.forEach((e, i) => (v[i] = BigInt.asUintN(64, e)));
  return v;
}

for (const k of [12, 24, 34, 35, 64]) {
  void test(`relu/ltz/drelu with the sign from ${k} bits: exact, rounds and bytes`, async () => {
    const n = 1000;
    const x = valuesFor(k, n);
    const { out } = await run3(async (s, me) => {
      await s.preprocessDaBits(3 * 1024 + 3 * n);
      const sx = await s.input(0, me === 0 ? x : null, n);
      const st = s.ctx.ch.stats;
      const r0 = st.rounds;
      const b0 = st.bytesSent;
      const relu = await s.relu(sx, k);
      const reluRounds = st.rounds - r0;
      const reluBytes = st.bytesSent - b0;
      const r1 = st.rounds;
      const l = await s.ltz(sx, k);
      const ltzRounds = st.rounds - r1;
      const d = await s.drelu(sx, k);
      return {
        reluRounds,
        reluBytes,
        ltzRounds,
        y: await s.reveal(relu.y),
        d: await s.reveal(relu.d),
        l: await s.reveal(l),
        d2: await s.reveal(d),
      };
    });
    const o = out[0]!;
    for (let i = 0; i < n; i++) {
      const xi = BigInt.asIntN(64, x[i]!);
      assert.equal(o.y![i], xi > 0n ? x[i] : 0n, `relu ${i} (x = ${xi})`);
      assert.equal(o.d![i], xi >= 0n ? 1n : 0n, `relu derivative ${i}`);
      assert.equal(o.l![i], xi < 0n ? 1n : 0n, `ltz ${i}`);
      assert.equal(o.d2![i], xi >= 0n ? 1n : 0n, `drelu ${i}`);
    }
    // carry-save 1 + generate 1 + tree ⌈log2(k−2)⌉ + one fused round (injection ∥ product)
    const tree = Math.ceil(Math.log2(k - 2));
    assert.equal(o.reluRounds, 3 + tree, `relu rounds at k = ${k}`);
    assert.equal(o.ltzRounds, 3 + tree, `ltz rounds at k = ${k}`);
    console.log(`k = ${k}: relu ${o.reluRounds} rounds, ${(o.reluBytes / n).toFixed(1)} B/element/party`);
    if (k < 64) assert.ok(o.reluBytes < n * 40, `fewer bytes than the 64-bit comparison: ${o.reluBytes}`);
  });
}

void test('relu without daBits (injection by multiplication) still gives exact results', async () => {
  const { relu } = await import('../../src/protocols/rep3/compare.js');
  const n = 200;
  const x = valuesFor(30, n);
  const { out } = await run3(async (s, me) => {
    const sx = await s.input(1, me === 1 ? x : null, n);
    const r = await relu(s.ctx, s.scope.child('plain'), sx, null, 30);
    return { y: await s.reveal(r.y), d: await s.reveal(r.d) };
  });
  for (let i = 0; i < n; i++) {
    const xi = BigInt.asIntN(64, x[i]!);
    assert.equal(out[2]!.y![i], xi > 0n ? x[i] : 0n);
    assert.equal(out[2]!.d![i], xi >= 0n ? 1n : 0n);
  }
});

void test('owner-sparse input: one zero component, the owner sends n elements to one party, products exact', async () => {
  const { matmul: ringMatmul } = await import('../../src/math/kernels.js');
  const m = 5;
  const k = 7;
  const n = 3;
  const X = randomRing(m * k, 20, true);
  const Y = randomRing(k * n, 20, true);
  const want = ringMatmul(X, Y, m, k, n);
  for (const ox of [0, 1, 2])
    for (const oy of [0, 1, 2]) {
      const { out } = await run3(async (s, me) => {
        const st = s.ctx.ch.stats;
        const b0 = st.bytesSent;
        const x = await s.inputSparse(ox, me === ox ? X : null, m * k);
        const sent = st.bytesSent - b0;
        const y = await s.inputSparse(oy, me === oy ? Y : null, k * n);
        const dense = await s.input(oy, me === oy ? Y : null, k * n);
        const denseX = await s.input(ox, me === ox ? X : null, m * k);
        const zeroA = x.a.every((v) => v === 0n);
        const zeroB = x.b.every((v) => v === 0n);
        return {
          sent,
          zeroA,
          zeroB,
          x: await s.reveal(x),
          xy: await s.reveal(await s.matmul(x, y, m, k, n)),
          xd: await s.reveal(await s.matmul(x, dense, m, k, n)),
          dy: await s.reveal(await s.matmul(denseX, y, m, k, n)),
          relu: await s.reveal((await s.relu(x, 24)).y),
        };
      });
      for (const [p, o] of out.entries()) {
        assert.deepEqual(Array.from(o.x!), Array.from(X), `reveal (owner ${ox})`);
        assert.deepEqual(Array.from(o.xy!), Array.from(want), `sparse·sparse owners ${ox},${oy}`);
        assert.deepEqual(Array.from(o.xd!), Array.from(want), `sparse·dense owners ${ox},${oy}`);
        assert.deepEqual(Array.from(o.dy!), Array.from(want), `dense·sparse owners ${ox},${oy}`);
        for (let i = 0; i < m * k; i++) {
          const v = BigInt.asIntN(64, X[i]!);
          assert.equal(o.relu![i], v > 0n ? X[i] : 0n);
        }
        // party owner+1 holds (c, 0), party owner+2 holds (0, c'): one random component each
        assert.equal(o.zeroB, p === (ox + 1) % 3, `party ${p}: zero second component`);
        assert.equal(o.zeroA, p === (ox + 2) % 3, `party ${p}: zero first component`);
        if (p === ox) assert.ok(o.sent >= 8 * m * k && o.sent < 8 * m * k + 200, `owner sent ${o.sent}`);
        else assert.equal(o.sent, 0);
      }
    }
});
