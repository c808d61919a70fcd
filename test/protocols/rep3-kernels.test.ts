/**
 * The rep3 layer's fast paths give exactly the bytes of their reference versions: the PRSS key
 * streams (AES-ECB on counter blocks for small draws) equal Prg's AES-128-CTR stream for any split
 * into draws, also across a 128-bit counter wrap; toPlanes by the wasm 64×64 transpose equals the
 * TypeScript 32×32 path for lengths around the block sizes and every kind of bit range.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import {
  KeyStream,
  addZeroA,
  xorZeroB,
  zeroA,
  zeroB,
  type Rep3Ctx,
} from '../../src/protocols/rep3/context.js';
import { Prg } from '../../src/math/prg.js';
import { toPlanes, fromPlanes } from '../../src/math/bits.js';
import { matmul, setKernelBackend, wasmAvailable } from '../../src/math/kernels.js';
import { matmulLocal, matmulLocalYielding } from '../../src/protocols/rep3/mul.js';

void test('rep3 KeyStream: byte for byte the AES-CTR stream of Prg, any split into draws', () => {
  const sizes = [0, 1, 3, 4, 8, 15, 16, 17, 100, 1024, 2040, 2048, 2049, 4096, 5000, 70000];
  for (let t = 0; t < 200; t++) {
    const key = new Uint8Array(randomBytes(16));
    const iv = new Uint8Array(randomBytes(16));
    if (t % 3 === 0) iv.fill(0xff, 4 + (t % 12)); // counter wraps inside the draws
    const draws = Array.from({ length: 6 }, () => sizes[randomInt(sizes.length)]!);
    const total = draws.reduce((a, b) => a + b, 0);
    const ref = new Prg(key, iv).bytes(total);
    const ks = new KeyStream(key, iv);
    const got = new Uint8Array(total);
    let off = 0;
    for (const n of draws) {
      got.set(ks.bytes(n), off);
      off += n;
    }
    assert.deepEqual(got, ref, `draws ${draws.join(',')}`);
  }
  const key = new Uint8Array(randomBytes(16));
  const iv = new Uint8Array(16).fill(0xff);
  const ks = new KeyStream(key, iv);
  assert.deepEqual(
    [...ks.words(5), ...ks.words(300)],
    [...new Prg(key, iv).words(305)],
    'full 128-bit counter wrap',
  );
  assert.deepEqual([...new KeyStream(key, iv).ring(3)], [...new Prg(key, iv).ring(3)]);
});

void test('rep3 KeyStream in-place XOR / add (native CTR path) equal the drawn stream, any offset', () => {
  for (const lead of [0, 3, 8, 16, 24, 4093]) {
    for (const len of [1000, 2048, 4096, 16384 + 40, 70000]) {
      const key = new Uint8Array(randomBytes(16));
      const key2 = new Uint8Array(randomBytes(16));
      const iv = new Uint8Array(randomBytes(16));
      if (len === 70000) iv.fill(0xff, 8); // the counter carries into the upper words mid-draw
      const ref = new Prg(key, iv).bytes(lead + len).subarray(lead);
      const ref2 = new Prg(key2, iv).bytes(lead + len).subarray(lead);
      const data = new Uint8Array(randomBytes(len));
      const at = (k: Uint8Array): KeyStream => {
        const s = new KeyStream(k, iv);
        s.bytes(lead);
        return s;
      };
      // bytes
      const x = data.slice();
      const s1 = at(key);
      s1.xorBytes(x);
      assert.deepEqual(
        x,
        data.map((v, i) => v ^ ref[i]!),
        `xorBytes lead=${lead} len=${len}`,
      );
      assert.deepEqual(s1.bytes(5), new Prg(key, iv).bytes(lead + len + 5).subarray(lead + len));
      // 32-bit words, single stream and the fused pair
      if (len % 4 === 0) {
        const w = new Uint32Array(data.slice().buffer);
        at(key).xorInto(w);
        const wb = new Uint8Array(w.buffer);
        assert.deepEqual(
          wb,
          data.map((v, i) => v ^ ref[i]!),
          `xorInto lead=${lead} len=${len}`,
        );
        const w2 = new Uint32Array(data.slice().buffer);
        KeyStream.xorPair(at(key), at(key2), w2);
        assert.deepEqual(
          new Uint8Array(w2.buffer),
          data.map((v, i) => v ^ ref[i]! ^ ref2[i]!),
          `xorPair lead=${lead} len=${len}`,
        );
      }
      // ring elements: z + p − q
      if (len % 8 === 0) {
        const z = new BigUint64Array(data.slice().buffer);
        const kp = new BigUint64Array(ref.slice().buffer);
        const kq = new BigUint64Array(ref2.slice().buffer);
        const want = z.map((v, i) => v + kp[i]! - kq[i]!);
        const p = at(key);
        const q = at(key2);
        KeyStream.addPair(p, q, z);
        assert.deepEqual([...z], [...want], `addPair lead=${lead} len=${len}`);
        assert.deepEqual(p.bytes(3), new Prg(key, iv).bytes(lead + len + 3).subarray(lead + len));
        assert.deepEqual(q.bytes(3), new Prg(key2, iv).bytes(lead + len + 3).subarray(lead + len));
      }
    }
  }
});

void test('rep3 in-place zero sharings add exactly zeroA / zeroB', () => {
  const ctx = {
    me: 1,
    next: 2,
    prev: 0,
    keys: [new Uint8Array(randomBytes(16)), new Uint8Array(randomBytes(16))],
  } as unknown as Rep3Ctx;
  for (const n of [1, 7, 64, 255, 256, 2049, 70001]) {
    const z = new BigUint64Array(n);
    new Uint8Array(z.buffer).set(randomBytes(n * 8));
    const za = zeroA(ctx, `op${n}`, n);
    const want = z.map((v, i) => v + za[i]!);
    const got = z.slice();
    addZeroA(ctx, `op${n}`, got);
    assert.deepEqual([...got], [...want], `ring n=${n}`);
    const w = new Uint32Array(n);
    new Uint8Array(w.buffer).set(randomBytes(n * 4));
    const alpha = zeroB(ctx, `op${n}`, n);
    const wantB = w.map((v, i) => v ^ alpha[i]!);
    xorZeroB(ctx, `op${n}`, w);
    assert.deepEqual([...w], [...wantB], `binary n=${n}`);
  }
});

void test(
  'toPlanes: the wasm 64×64 transpose path equals the TypeScript path',
  { skip: !wasmAvailable() },
  () => {
    const ranges: [number, number][] = [
      [64, 0],
      [34, 0],
      [23, 0],
      [1, 63],
      [20, 5],
      [63, 1],
      [32, 32],
      [33, 31],
    ];
    try {
      for (const n of [255, 256, 257, 300, 1000, 1023, 1024, 1025, 4097]) {
        const x = new BigUint64Array(n);
        new Uint8Array(x.buffer).set(randomBytes(n * 8));
        for (const [w, lo] of ranges) {
          setKernelBackend('ts');
          const ref = toPlanes(x, w, lo);
          setKernelBackend('wasm');
          const got = toPlanes(x, w, lo);
          assert.deepEqual(got, ref, `n=${n} w=${w} lo=${lo}`);
        }
        assert.deepEqual([...fromPlanes(toPlanes(x), n)], [...x]);
      }
    } finally {
      setKernelBackend('auto');
    }
  },
);

void test("rep3 matmulLocal: the three parties' local shares add up to X·Y for every pattern of zero components", () => {
  const [m, k, n] = [5, 1030, 3]; // k·m words span several 4096-word blocks of the zero scan
  const rnd = (len: number): BigUint64Array => {
    const v = new BigUint64Array(len);
    new Uint8Array(v.buffer).set(randomBytes(len * 8));
    return v;
  };
  // a component that is zero except in one word far from the start (must not count as zero)
  const almostZero = (len: number, hi: boolean): BigUint64Array => {
    const v = new BigUint64Array(len);
    v[len - 1 - randomInt(3)] = hi ? 1n << 63n : 1n;
    return v;
  };
  const kinds = ['rand', 'zero', 'late', 'lateHi'] as const;
  const make = (kind: (typeof kinds)[number], len: number): BigUint64Array =>
    kind === 'rand'
      ? rnd(len)
      : kind === 'zero'
        ? new BigUint64Array(len)
        : almostZero(len, kind === 'lateHi');
  for (let trial = 0; trial < 60; trial++) {
    const xs = [0, 1, 2].map(() => make(kinds[randomInt(kinds.length)]!, m * k));
    const ys = [0, 1, 2].map(() => make(kinds[randomInt(kinds.length)]!, k * n));
    const X = xs[0]!.map((v, i) => v + xs[1]![i]! + xs[2]![i]!);
    const Y = ys[0]!.map((v, i) => v + ys[1]![i]! + ys[2]![i]!);
    const want = matmul(X, Y, m, k, n);
    const got = new BigUint64Array(m * n);
    for (let p = 0; p < 3; p++) {
      const q = (p + 1) % 3;
      const z = matmulLocal({ a: xs[p]!, b: xs[q]! }, { a: ys[p]!, b: ys[q]! }, m, k, n);
      for (let i = 0; i < z.length; i++) got[i] = got[i]! + z[i]!;
    }
    assert.deepEqual([...got], [...want], `trial ${trial}`);
  }
});

void test('rep3 matmulLocalYielding: row chunks give exactly matmulLocal, and the event loop runs between them', async () => {
  // 210·300·200 = 12.6 M multiply-adds: two row chunks (200 + 10 rows); 10 rows: one call, no yield
  const rnd = (len: number): BigUint64Array => {
    const v = new BigUint64Array(len);
    new Uint8Array(v.buffer).set(randomBytes(len * 8));
    return v;
  };
  for (const [m, k, n, chunks] of [
    [210, 300, 200, true],
    [10, 300, 200, false],
  ] as const) {
    // dense, then the owner-sparse patterns of a query times sparse weights (zero x.a, zero y.b)
    for (const zero of ['none', 'xa', 'yb', 'xb+ya'] as const) {
      const x = {
        a: zero === 'xa' ? new BigUint64Array(m * k) : rnd(m * k),
        b: zero === 'xb+ya' ? new BigUint64Array(m * k) : rnd(m * k),
      };
      const y = {
        a: zero === 'xb+ya' ? new BigUint64Array(k * n) : rnd(k * n),
        b: zero === 'yb' ? new BigUint64Array(k * n) : rnd(k * n),
      };
      let turned = false;
      setImmediate(() => (turned = true));
      const got = await matmulLocalYielding(x, y, m, k, n);
      assert.equal(turned, chunks, `${m} rows, zero ${zero}: event loop turned`);
      assert.deepEqual([...got], [...matmulLocal(x, y, m, k, n)], `${m} rows, zero ${zero}`);
    }
  }
});
