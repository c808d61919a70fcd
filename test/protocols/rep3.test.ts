/**
 * rep3 protocols against plaintext oracles (in-memory channel). Tolerances: ring operations are
 * exact; truncation returns ⌊x/2^f⌋ or ⌊x/2^f⌋ + 1 (one unit in the last place, ideal stochastic
 * rounding); fixed-point products are within 2^-f·(1 + |x| + |y|) of the float product.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { run3, randomRing, signed } from './rep3-helpers.js';
import {
  shareA,
  reconstructA,
  addA,
  subA,
  mulScalarA,
  shareB,
  reconstructB,
  type Rep3A,
} from '../../src/sharing/replicated/rep3.js';
import { encode, decode, fromInts } from '../../src/math/fixed.js';
import { fromPlanes, toPlanes } from '../../src/math/bits.js';
import { memoryNetwork } from '../../src/net/memory.js';
import { Rep3Session } from '../../src/protocols/rep3/session.js';
import { isShareholdError } from '../../src/errors.js';

const big = (xs: ArrayLike<bigint>): bigint[] => Array.from(xs);

void test('reconstruct(share(x)) = x and linearity (property)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { minLength: 1, maxLength: 40 }),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      (xs: bigint[], s: bigint) => {
        const x = BigUint64Array.from(xs);
        const y = BigUint64Array.from(xs.map((v) => BigInt.asUintN(64, v * 3n + 7n)));
        const sx = shareA(x);
        const sy = shareA(y);
        assert.deepEqual(big(reconstructA(sx)), xs);
        const sum = reconstructA([0, 1, 2].map((i) => addA(sx[i]!, sy[i]!)));
        assert.deepEqual(
          big(sum),
          xs.map((v, i) => BigInt.asUintN(64, v + y[i]!)),
        );
        const diff = reconstructA([0, 1, 2].map((i) => subA(sx[i]!, sy[i]!)));
        assert.deepEqual(
          big(diff),
          xs.map((v, i) => BigInt.asUintN(64, v - y[i]!)),
        );
        const sc = reconstructA([0, 1, 2].map((i) => mulScalarA(sx[i]!, s)));
        assert.deepEqual(
          big(sc),
          xs.map((v) => BigInt.asUintN(64, v * s)),
        );
      },
    ),
    { numRuns: 100 },
  );
});

void test('binary share/reconstruct round trip', () => {
  const x = randomRing(77);
  const p = toPlanes(x);
  const sh = shareB(p, 77, 64);
  assert.deepEqual(big(fromPlanes(reconstructB(sh), 77)), big(x));
});

void test('input from every party, reveal to all and to a subset', async () => {
  const xs = [randomRing(33), randomRing(33), randomRing(33)];
  const { out } = await run3(async (s, me) => {
    const shares: Rep3A[] = [];
    for (let owner = 0; owner < 3; owner++)
      shares.push(await s.input(owner, me === owner ? xs[owner]! : null, 33));
    const all = await Promise.all(shares.map((sh) => s.reveal(sh)));
    const only1 = await s.reveal(shares[0]!, [1]);
    return { all, only1 };
  });
  for (const o of out) for (let k = 0; k < 3; k++) assert.deepEqual(big(o.all[k]!), big(xs[k]!));
  assert.equal(out[0]!.only1, null);
  assert.equal(out[2]!.only1, null);
  assert.deepEqual(big(out[1]!.only1!), big(xs[0]!));
});

void test('mul: exact in the ring, incl. 0, 1 and 2^64-1; one round, 8 bytes per product per party', async () => {
  const n = 1000;
  const x = randomRing(n);
  const y = randomRing(n);
  x[0] = 0n;
  y[1] = 0n;
  x[2] = (1n << 64n) - 1n;
  y[2] = (1n << 64n) - 1n;
  x[3] = 1n;
  const { out, stats } = await run3(async (s, me) => {
    const sx = await s.input(0, me === 0 ? x : null, n);
    const sy = await s.input(1, me === 1 ? y : null, n);
    const before = { ...s.ctx.ch.stats };
    const z = await s.mul(sx, sy);
    const after = { ...s.ctx.ch.stats };
    return {
      z: await s.reveal(z),
      rounds: after.rounds - before.rounds,
      bytes: after.bytesSent - before.bytesSent,
    };
  });
  for (const o of out) {
    assert.deepEqual(
      big(o.z!),
      big(x).map((v, i) => BigInt.asUintN(64, v * y[i]!)),
    );
    assert.equal(o.rounds, 1);
    assert.equal(o.bytes, 8 * n);
  }
  assert.ok(stats.every((st) => st.bytesSent > 0));
});

void test('matmul over the ring for random shapes; communication ∝ output', async () => {
  for (const [m, k, n] of [
    [1, 1, 1],
    [3, 5, 2],
    [7, 1, 9],
    [16, 33, 5],
  ] as const) {
    const X = randomRing(m * k);
    const Y = randomRing(k * n);
    const { out } = await run3(async (s, me) => {
      const sx = await s.input(2, me === 2 ? X : null, m * k);
      const sy = await s.input(0, me === 0 ? Y : null, k * n);
      const b0 = s.ctx.ch.stats.bytesSent;
      const z = await s.matmul(sx, sy, m, k, n);
      const sent = s.ctx.ch.stats.bytesSent - b0;
      return { z: await s.reveal(z), sent };
    });
    const ref: bigint[] = [];
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let acc = 0n;
        for (let t = 0; t < k; t++) acc += X[i * k + t]! * Y[t * n + j]!;
        ref.push(BigInt.asUintN(64, acc));
      }
    for (const o of out) {
      assert.deepEqual(big(o.z!), ref);
      assert.equal(o.sent, 8 * m * n);
    }
  }
});

void test('truncation: ⌊x/2^f⌋ or ⌊x/2^f⌋+1 for |x| < 2^62, incl. extremes', async () => {
  const f = 16;
  const n = 2000;
  const x = randomRing(n, 62, true);
  const extremes = [
    0n,
    1n,
    -1n,
    (1n << 62n) - 1n,
    -(1n << 62n) + 1n,
    1n << 16n,
    -(1n << 16n),
    65535n,
    -65535n,
  ];
  extremes.forEach((v, i) => (x[i] = BigInt.asUintN(64, v)));
  const { out } = await run3(
    async (s, me) => {
      const sx = await s.input(0, me === 0 ? x : null, n);
      return s.reveal(await s.trunc(sx));
    },
    { f },
  );
  for (const o of out)
    for (let i = 0; i < n; i++) {
      const exact = signed(x[i]!) >> BigInt(f);
      const got = signed(o![i]!);
      assert.ok(got === exact || got === exact + 1n, `index ${i}: ${got} vs floor ${exact}`);
    }
});

void test('truncation rounds stochastically with P(up) = frac (ideal functionality, not share-dependent)', async () => {
  const f = 8;
  const n = 4000;
  // x = 5 + 0.25 → rounds up with probability 1/4
  const x = new BigUint64Array(n).fill(BigInt(5 * 256 + 64));
  const { out } = await run3(
    async (s, me) => s.reveal(await s.trunc(await s.input(1, me === 1 ? x : null, n))),
    { f },
  );
  let ups = 0;
  for (let i = 0; i < n; i++) {
    const v = signed(out[0]![i]!);
    assert.ok(v === 5n || v === 6n);
    if (v === 6n) ups++;
  }
  const p = ups / n;
  // binomial std = sqrt(0.25·0.75/4000) ≈ 0.0068; allow 5 sigma
  assert.ok(Math.abs(p - 0.25) < 0.035, `round-up rate ${p}`);
});

void test('fixed-point mul and matmul (fused truncation, one round) match floats', async () => {
  const f = 16;
  const n = 500;
  const xs = Array.from({ length: n }, (_, i) => Math.sin(i) * 100);
  const ys = Array.from({ length: n }, (_, i) => Math.cos(i * 1.3) * 50 - 3);
  const [m, k, nn] = [6, 10, 4];
  const A = Array.from({ length: m * k }, (_, i) => Math.sin(i * 0.7) * 3);
  const B = Array.from({ length: k * nn }, (_, i) => Math.cos(i * 0.3) * 2);
  const { out } = await run3(
    async (s, me) => {
      const sx = await s.input(0, me === 0 ? encode(xs, f) : null, n);
      const sy = await s.input(1, me === 1 ? encode(ys, f) : null, n);
      const r0 = s.ctx.ch.stats.rounds;
      const z = await s.mulFixed(sx, sy);
      const sa = await s.input(2, me === 2 ? encode(A, f) : null, m * k);
      const sb = await s.input(2, me === 2 ? encode(B, f) : null, k * nn);
      await s.preprocessTrunc(m * nn);
      const r1 = s.ctx.ch.stats.rounds;
      const c = await s.matmulFixed(sa, sb, m, k, nn);
      const r2 = s.ctx.ch.stats.rounds;
      return {
        z: decode((await s.reveal(z))!, f),
        c: decode((await s.reveal(c))!, f),
        mmRounds: r2 - r1,
        r0,
      };
    },
    { f },
  );
  const ulp = 2 ** -f;
  for (const o of out) {
    for (let i = 0; i < n; i++) {
      const tol = ulp * (1 + Math.abs(xs[i]!) + Math.abs(ys[i]!));
      assert.ok(Math.abs(o.z[i]! - xs[i]! * ys[i]!) <= tol, `mul ${i}`);
    }
    for (let i = 0; i < m; i++)
      for (let j = 0; j < nn; j++) {
        let acc = 0;
        let mag = 0;
        for (let t = 0; t < k; t++) {
          acc += A[i * k + t]! * B[t * nn + j]!;
          mag += Math.abs(A[i * k + t]!) + Math.abs(B[t * nn + j]!);
        }
        assert.ok(Math.abs(o.c[i * nn + j]! - acc) <= ulp * (1 + mag), `matmul ${i},${j}`);
      }
    assert.equal(o.mmRounds, 1);
  }
});

void test('a2b and b2a are inverse and exact', async () => {
  const n = 100;
  const x = randomRing(n);
  x[0] = 0n;
  x[1] = (1n << 64n) - 1n;
  x[2] = 1n << 63n;
  const { out } = await run3(async (s, me) => {
    const sx = await s.input(0, me === 0 ? x : null, n);
    const bits = await s.a2b(sx);
    const planes = await s.revealBits(bits);
    const back = await s.reveal(await s.b2a(bits));
    return { planes, back };
  });
  for (const o of out) {
    assert.deepEqual(big(fromPlanes(o.planes!, n)), big(x));
    assert.deepEqual(big(o.back!), big(x));
  }
});

const edge = [
  0n,
  1n,
  -1n,
  2n,
  -2n,
  (1n << 62n) - 1n,
  -(1n << 62n),
  (1n << 63n) - 1n,
  -(1n << 63n),
  65536n,
  -65536n,
];

void test('ltz, lt, eq and relu against plaintext, incl. edge cases', async () => {
  const n = 300;
  const x = randomRing(n, 63, true);
  const y = randomRing(n, 63, true);
  edge.forEach((v, i) => (x[i] = BigInt.asUintN(64, v)));
  for (let i = 20; i < 40; i++) y[i] = x[i]!; // equal pairs
  const { out } = await run3(async (s, me) => {
    const sx = await s.input(0, me === 0 ? x : null, n);
    const sy = await s.input(1, me === 1 ? y : null, n);
    await s.preprocessDaBits(8 * n);
    const r0 = s.ctx.ch.stats.rounds;
    const l = await s.ltz(sx);
    const ltzRounds = s.ctx.ch.stats.rounds - r0;
    const relu = await s.relu(sx);
    return {
      ltz: await s.reveal(l),
      lt: await s.reveal(await s.lt(sx, sy)),
      eq: await s.reveal(await s.eq(sx, sy)),
      relu: await s.reveal(relu.y),
      d: await s.reveal(relu.d),
      ltzRounds,
    };
  });
  for (const o of out) {
    assert.equal(o.ltzRounds, 9);
    for (let i = 0; i < n; i++) {
      const xi = signed(x[i]!);
      const yi = signed(y[i]!);
      assert.equal(o.ltz![i], xi < 0n ? 1n : 0n, `ltz ${i}`);
      assert.equal(o.relu![i], BigInt.asUintN(64, xi > 0n ? xi : 0n), `relu ${i}`);
      assert.equal(o.d![i], xi >= 0n ? 1n : 0n, `drelu ${i}`);
      // lt and eq are specified for |x − y| < 2^63 (inputs in ±2^62)
      const dx = xi - yi;
      if (dx > -(1n << 63n) && dx < 1n << 63n) {
        assert.equal(o.lt![i], xi < yi ? 1n : 0n, `lt ${i}`);
        assert.equal(o.eq![i], xi === yi ? 1n : 0n, `eq ${i}`);
      }
    }
  }
});

void test('max and argmax over rows, odd widths and ties (lowest index wins)', async () => {
  for (const [rows, cols] of [
    [1, 1],
    [3, 2],
    [4, 7],
    [2, 16],
  ] as const) {
    const vals: number[] = [];
    for (let i = 0; i < rows * cols; i++) vals.push(((i * 7919) % 23) - 11);
    const x = fromInts(vals);
    const { out } = await run3(async (s, me) => {
      const sx = await s.input(0, me === 0 ? x : null, rows * cols);
      const { max, argmax } = await s.maxArgmax(sx, rows, cols);
      return { max: await s.reveal(max), arg: await s.reveal(argmax) };
    });
    for (let r = 0; r < rows; r++) {
      const row = vals.slice(r * cols, (r + 1) * cols);
      const mx = Math.max(...row);
      assert.equal(signed(out[0]!.max![r]!), BigInt(mx));
      assert.equal(Number(out[0]!.arg![r]!), row.indexOf(mx));
    }
  }
});

void test('a silent party makes the others fail with peer-timeout, not hang', async () => {
  const chans = memoryNetwork(3, { timeoutMs: 300 });
  const results = await Promise.allSettled(
    chans.map(async (ch, me) => {
      const s = await Rep3Session.create(ch);
      const x = await s.input(0, me === 0 ? new BigUint64Array(4) : null, 4);
      if (me === 2) return 'silent';
      return s.reveal(await s.mul(x, x));
    }),
  );
  for (const me of [0, 1]) {
    const r = results[me]!;
    assert.equal(r.status, 'rejected');
    assert.ok(isShareholdError(r.reason, 'peer-timeout'));
  }
  await Promise.all(chans.map((c) => c.close()));
});
