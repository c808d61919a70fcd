import assert from 'node:assert/strict';
import { randomFillSync, randomInt } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isShareholdError } from '../../src/errors.js';
import { benchKernels } from '../../src/math/kernel-bench.js';
import {
  conv2d,
  conv2dGeometry,
  kernelBackend,
  kernelImpl,
  matmul,
  matmulAdd,
  matmulTerms,
  setKernelBackend,
  setWasmBudget,
  transpose64,
  wasmAvailable,
  wasmUnavailableReason,
  withBackend,
  type Conv2dShape,
  type KernelBackendName,
  type MatTerm,
} from '../../src/math/kernels.js';

const MOD = 1n << 64n;
const MAX = MOD - 1n;
const EXTREMES = [0n, 1n, 2n, MAX, MAX - 1n, 1n << 63n, (1n << 32n) - 1n, 1n << 32n];

const envDisabled = ['0', 'false', 'off', 'no'].includes((process.env['SHAREHOLD_WASM'] ?? '').toLowerCase());
const wasmOn = wasmAvailable();

/** Uniform u64 values with some extremes mixed in at random positions. */
function rand(n: number): BigUint64Array {
  const x = randomFillSync(new BigUint64Array(n));
  for (let i = 0; i < n; i++) if (randomInt(5) === 0) x[i] = EXTREMES[randomInt(EXTREMES.length)]!;
  return x;
}

/** Slow reference: exact BigInt dot products reduced mod 2^64 at the end. */
function refMatmul(a: BigUint64Array, b: BigUint64Array, m: number, k: number, n: number): BigUint64Array {
  const c = new BigUint64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0n;
      for (let p = 0; p < k; p++) s += BigInt(a[i * k + p]!) * BigInt(b[p * n + j]!);
      c[i * n + j] = s % MOD;
    }
  }
  return c;
}

function refConv(input: BigUint64Array, weight: BigUint64Array, shape: Conv2dShape): BigUint64Array {
  const g = conv2dGeometry(shape);
  const out = new BigUint64Array(g.n * g.o * g.oh * g.ow);
  for (let b = 0; b < g.n; b++)
    for (let o = 0; o < g.o; o++)
      for (let oy = 0; oy < g.oh; oy++)
        for (let ox = 0; ox < g.ow; ox++) {
          let s = 0n;
          for (let c = 0; c < g.c; c++)
            for (let y = 0; y < g.kh; y++)
              for (let x = 0; x < g.kw; x++) {
                const iy = oy * g.strideH - g.padH + y;
                const ix = ox * g.strideW - g.padW + x;
                if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                const v = input[((b * g.c + c) * g.h + iy) * g.w + ix]!;
                s += BigInt(v) * BigInt(weight[((o * g.c + c) * g.kh + y) * g.kw + x]!);
              }
          out[((b * g.o + o) * g.oh + oy) * g.ow + ox] = s % MOD;
        }
  return out;
}

function refTranspose(x: BigUint64Array): BigUint64Array {
  const out = new BigUint64Array(x.length);
  for (let t = 0; t < x.length; t += 64)
    for (let i = 0; i < 64; i++)
      for (let j = 0; j < 64; j++) {
        if ((x[t + i]! >> BigInt(j)) & 1n) out[t + j] = out[t + j]! | (1n << BigInt(i));
      }
  return out;
}

function addRing(x: BigUint64Array, y: BigUint64Array): BigUint64Array {
  return x.map((v, i) => v + y[i]!);
}

function throwsCode(fn: () => unknown, code: 'shape-mismatch' | 'invalid-argument'): void {
  assert.throws(fn, (e: unknown) => isShareholdError(e, code));
}

const u64 = fc.oneof(fc.constantFrom(...EXTREMES), fc.bigInt({ min: 0n, max: MAX }));
const ring = (len: number): fc.Arbitrary<BigUint64Array> =>
  fc.array(u64, { minLength: len, maxLength: len }).map((xs) => BigUint64Array.from(xs));
const dimArb = fc.integer({ min: 1, max: 9 });

const MATMUL_SHAPES: readonly (readonly [number, number, number])[] = [
  [1, 1, 1],
  [1, 0, 1],
  [3, 0, 2],
  [0, 3, 2],
  [2, 3, 0],
  [1, 7, 1],
  [2, 2, 2],
  [3, 5, 7],
  [4, 4, 4],
  [5, 1, 9],
  [9, 17, 3],
  [13, 8, 6],
  [8, 3, 4],
  [33, 65, 31],
];

const CONV_CASES: readonly Conv2dShape[] = [
  { n: 1, c: 1, h: 1, w: 1, o: 1, kh: 1, kw: 1 },
  { n: 1, c: 1, h: 5, w: 5, o: 1, kh: 3, kw: 3 },
  { n: 2, c: 3, h: 6, w: 7, o: 4, kh: 3, kw: 3, pad: 1 },
  { n: 1, c: 2, h: 7, w: 5, o: 3, kh: 3, kw: 2, stride: 2, pad: 1 },
  { n: 3, c: 1, h: 8, w: 8, o: 2, kh: 2, kw: 2, stride: 2 },
  { n: 1, c: 2, h: 4, w: 9, o: 5, kh: 1, kw: 1 },
  { n: 1, c: 3, h: 5, w: 6, o: 2, kh: 5, kw: 6 },
  { n: 1, c: 2, h: 3, w: 3, o: 2, kh: 3, kw: 3, pad: 2 },
  { n: 1, c: 1, h: 9, w: 10, o: 1, kh: 3, kw: 3, stride: [2, 3], pad: [0, 1] },
  { n: 2, c: 1, h: 6, w: 6, o: 3, kh: 2, kw: 3, stride: 4, pad: 1 },
  { n: 0, c: 2, h: 4, w: 4, o: 2, kh: 3, kw: 3 },
];

void describe('kernel backend selection', () => {
  void it('loads the wasm kernels after `npm run build` unless SHAREHOLD_WASM disables them', () => {
    if (envDisabled) {
      assert.equal(wasmOn, false);
      assert.equal(kernelBackend(), 'ts');
      assert.match(wasmUnavailableReason() ?? '', /SHAREHOLD_WASM/);
      assert.throws(
        () => kernelImpl('wasm'),
        (e: unknown) => isShareholdError(e, 'wasm-unavailable'),
      );
    } else {
      assert.equal(wasmOn, true, `wasm unavailable: ${wasmUnavailableReason()}`);
      assert.equal(wasmUnavailableReason(), undefined);
      assert.equal(kernelBackend(), 'wasm');
    }
  });

  void it('withBackend forces a backend and restores the previous one, also on throw', () => {
    const before = kernelBackend();
    assert.equal(
      withBackend('ts', () => kernelBackend()),
      'ts',
    );
    assert.throws(() =>
      withBackend('ts', () => {
        throw new Error('boom');
      }),
    );
    assert.equal(kernelBackend(), before);
    setKernelBackend('ts');
    assert.equal(kernelBackend(), 'ts');
    setKernelBackend('auto');
    assert.equal(kernelBackend(), before);
  });
});

for (const backend of ['wasm', 'ts'] as const satisfies readonly KernelBackendName[]) {
  const skip = backend === 'wasm' && !wasmOn ? `wasm unavailable: ${wasmUnavailableReason()}` : false;
  void describe(`kernel conformance (${backend})`, { skip }, () => {
    const on = <T>(fn: () => T): T => withBackend(backend, fn);

    void it('matmul equals the BigInt reference on edge shapes and extreme values', () => {
      for (const [m, k, n] of MATMUL_SHAPES) {
        const a = rand(m * k);
        const b = rand(k * n);
        assert.deepEqual(
          on(() => matmul(a, b, m, k, n)),
          refMatmul(a, b, m, k, n),
          `${m}x${k}x${n}`,
        );
      }
      // All 2^64 − 1: every product is 1, so each entry is k mod 2^64.
      const ones = on(() =>
        matmul(new BigUint64Array(15).fill(MAX), new BigUint64Array(25).fill(MAX), 3, 5, 5),
      );
      assert.deepEqual(ones, new BigUint64Array(15).fill(5n));
      // (2^32)·(2^32) = 2^64 ≡ 0; (2^63)·2 ≡ 0; (2^64 − 1)·(2^64 − 1) ≡ 1; (2^63 + 1)·(2^63 + 1) ≡ 1.
      const x = new BigUint64Array([1n << 32n, 1n << 63n, MAX, (1n << 63n) + 1n]);
      const y = new BigUint64Array([1n << 32n, 2n, MAX, (1n << 63n) + 1n]);
      for (let i = 0; i < x.length; i++) {
        const prod = on(() => matmul(x.subarray(i, i + 1), y.subarray(i, i + 1), 1, 1, 1));
        assert.deepEqual(prod, new BigUint64Array([[0n, 0n, 1n, 1n][i]!]));
      }
      assert.deepEqual(
        on(() => matmul(x, y, 1, 4, 1)),
        new BigUint64Array([2n]),
      );
    });

    void it('matmul crosses the wasm blocking boundaries (k > 256, m > 128, n mod 4 ≠ 0)', () => {
      for (const [m, k, n] of [
        [131, 300, 7],
        [6, 513, 5],
        [130, 2, 10],
      ] as const) {
        const a = rand(m * k);
        const b = rand(k * n);
        assert.deepEqual(
          on(() => matmul(a, b, m, k, n)),
          refMatmul(a, b, m, k, n),
          `${m}x${k}x${n}`,
        );
      }
    });

    void it('matmulAdd accumulates, and k = 0 leaves the accumulator (matmul: zeros)', () => {
      const [m, k, n] = [5, 6, 7];
      const a = rand(m * k);
      const b = rand(k * n);
      const acc0 = rand(m * n);
      const acc = acc0.slice();
      assert.equal(
        on(() => matmulAdd(a, b, m, k, n, acc)),
        acc,
      );
      assert.deepEqual(acc, addRing(acc0, refMatmul(a, b, m, k, n)));
      const keep = acc.slice();
      on(() => matmulAdd(new BigUint64Array(0), new BigUint64Array(0), m, 0, n, acc));
      assert.deepEqual(acc, keep);
      assert.deepEqual(
        on(() => matmul(new BigUint64Array(0), new BigUint64Array(0), m, 0, n, acc)),
        new BigUint64Array(m * n),
      );
    });

    void it('writes into `out`, which may alias an input', () => {
      const s = 6;
      const a = rand(s * s);
      const b = rand(s * s);
      const want = refMatmul(a, b, s, s, s);
      const out = new BigUint64Array(s * s);
      assert.equal(
        on(() => matmul(a, b, s, s, s, out)),
        out,
      );
      assert.deepEqual(out, want);
      const a2 = a.slice();
      on(() => matmul(a2, b, s, s, s, a2));
      assert.deepEqual(a2, want);
      const b2 = b.slice();
      on(() => matmul(a, b2, s, s, s, b2));
      assert.deepEqual(b2, want);
      const acc = b.slice();
      on(() => matmulAdd(a, acc, s, s, s, acc));
      assert.deepEqual(acc, addRing(b, want));
      // A subarray output inside a larger buffer is written in place and nothing else.
      const big = new BigUint64Array(s * s + 2).fill(7n);
      on(() => matmul(a, b, s, s, s, big.subarray(1, 1 + s * s)));
      assert.deepEqual(big.subarray(1, 1 + s * s), want);
      assert.equal(big[0], 7n);
      assert.equal(big[s * s + 1], 7n);
    });

    void it('rejects inconsistent shapes with typed errors', () => {
      const a = rand(6);
      throwsCode(() => on(() => matmul(a, rand(6), 2, 3, 3)), 'shape-mismatch');
      throwsCode(() => on(() => matmul(a, rand(6), 2, 2, 3)), 'shape-mismatch');
      throwsCode(() => on(() => matmul(a, rand(6), 2, 3, 2, new BigUint64Array(5))), 'shape-mismatch');
      throwsCode(() => on(() => matmul(a, rand(6), -2, -3, 2)), 'invalid-argument');
      throwsCode(() => on(() => matmul(a, rand(6), 1.5, 4, 1.5)), 'invalid-argument');
    });

    void it('property: matmul equals the BigInt reference on random shapes', () => {
      const arb = fc
        .tuple(dimArb, fc.integer({ min: 0, max: 9 }), dimArb)
        .chain(([m, k, n]) => fc.tuple(fc.constant([m, k, n] as const), ring(m * k), ring(k * n)));
      fc.assert(
        fc.property(arb, ([[m, k, n], a, b]) => {
          assert.deepEqual(
            on(() => matmul(a, b, m, k, n)),
            refMatmul(a, b, m, k, n),
          );
        }),
        { numRuns: 150 },
      );
    });

    void it('property: (A·B)·C = A·(B·C) and A·(B + B′) = A·B + A·B′ mod 2^64', () => {
      const arb = fc
        .tuple(dimArb, dimArb, dimArb, dimArb)
        .chain(([m, k, n, p]) =>
          fc.tuple(fc.constant([m, k, n, p] as const), ring(m * k), ring(k * n), ring(k * n), ring(n * p)),
        );
      fc.assert(
        fc.property(arb, ([[m, k, n, p], a, b, b2, c]) => {
          on(() => {
            const left = matmul(matmul(a, b, m, k, n), c, m, n, p);
            const right = matmul(a, matmul(b, c, k, n, p), m, k, p);
            assert.deepEqual(left, right);
            const sum = matmul(a, addRing(b, b2), m, k, n);
            const acc = matmul(a, b, m, k, n);
            matmulAdd(a, b2, m, k, n, acc);
            assert.deepEqual(sum, acc);
          });
        }),
        { numRuns: 100 },
      );
    });

    void it('conv2d equals the naive reference (padding, strides, batches, 1×1 and full-size kernels)', () => {
      for (const shape of CONV_CASES) {
        const input = rand(shape.n * shape.c * shape.h * shape.w);
        const weight = rand(shape.o * shape.c * shape.kh * shape.kw);
        assert.deepEqual(
          on(() => conv2d(input, weight, shape)),
          refConv(input, weight, shape),
          JSON.stringify(shape),
        );
      }
    });

    void it('property: conv2d equals the naive reference on random geometry', () => {
      const arb = fc
        .record({
          n: fc.integer({ min: 1, max: 2 }),
          c: fc.integer({ min: 1, max: 3 }),
          h: fc.integer({ min: 1, max: 7 }),
          w: fc.integer({ min: 1, max: 7 }),
          o: fc.integer({ min: 1, max: 5 }),
          kh: fc.integer({ min: 1, max: 4 }),
          kw: fc.integer({ min: 1, max: 4 }),
          sh: fc.integer({ min: 1, max: 3 }),
          sw: fc.integer({ min: 1, max: 3 }),
          ph: fc.integer({ min: 0, max: 2 }),
          pw: fc.integer({ min: 0, max: 2 }),
        })
        .filter((s) => s.h + 2 * s.ph >= s.kh && s.w + 2 * s.pw >= s.kw)
        .chain((s) => {
          const shape: Conv2dShape = { ...s, stride: [s.sh, s.sw], pad: [s.ph, s.pw] };
          return fc.tuple(fc.constant(shape), ring(s.n * s.c * s.h * s.w), ring(s.o * s.c * s.kh * s.kw));
        });
      fc.assert(
        fc.property(arb, ([shape, input, weight]) => {
          assert.deepEqual(
            on(() => conv2d(input, weight, shape)),
            refConv(input, weight, shape),
          );
        }),
        { numRuns: 100 },
      );
    });

    void it('conv2d validates its geometry and lengths', () => {
      const shape = { n: 1, c: 2, h: 4, w: 4, o: 3, kh: 3, kw: 3 };
      const input = rand(32);
      const weight = rand(54);
      assert.deepEqual(conv2dGeometry(shape), {
        ...shape,
        strideH: 1,
        strideW: 1,
        padH: 0,
        padW: 0,
        oh: 2,
        ow: 2,
      });
      throwsCode(() => on(() => conv2d(input, rand(53), shape)), 'shape-mismatch');
      throwsCode(() => on(() => conv2d(rand(31), weight, shape)), 'shape-mismatch');
      throwsCode(() => on(() => conv2d(input, weight, shape, new BigUint64Array(11))), 'shape-mismatch');
      throwsCode(() => on(() => conv2d(input, weight, { ...shape, stride: 0 })), 'invalid-argument');
      throwsCode(() => on(() => conv2d(input, weight, { ...shape, pad: -1 })), 'invalid-argument');
      throwsCode(() => conv2d(rand(8), rand(50), { ...shape, h: 2, w: 2, kh: 5, kw: 5 }), 'invalid-argument');
      const out = new BigUint64Array(12).fill(9n);
      assert.equal(
        on(() => conv2d(input, weight, shape, out)),
        out,
      );
      assert.deepEqual(out, refConv(input, weight, shape));
    });

    void it('transpose64 equals the bit-level reference, is an involution and works in place', () => {
      const x = rand(64 * 5);
      x.fill(0n, 64, 128);
      x.fill(MAX, 128, 192);
      const t = on(() => transpose64(x));
      assert.deepEqual(t, refTranspose(x));
      assert.deepEqual(t.subarray(64, 128), new BigUint64Array(64));
      assert.deepEqual(t.subarray(128, 192), new BigUint64Array(64).fill(MAX));
      assert.deepEqual(
        on(() => transpose64(t)),
        x,
      );
      const y = x.slice();
      on(() => transpose64(y, y));
      assert.deepEqual(y, t);
      // Word j of the planes holds bit j of every element: element i = 1 << i gives the identity.
      const id = BigUint64Array.from({ length: 64 }, (_, i) => 1n << BigInt(i));
      assert.deepEqual(
        on(() => transpose64(id)),
        id,
      );
      assert.deepEqual(
        on(() => transpose64(new BigUint64Array(0))),
        new BigUint64Array(0),
      );
      throwsCode(() => on(() => transpose64(rand(63))), 'invalid-argument');
      throwsCode(() => on(() => transpose64(rand(64), new BigUint64Array(128))), 'shape-mismatch');
    });
  });
}

void describe('wasm and ts kernels are bit-identical', { skip: wasmOn ? false : 'wasm unavailable' }, () => {
  const wasm = (): ReturnType<typeof kernelImpl> => kernelImpl('wasm');
  const ts = kernelImpl('ts');

  void it('matmul and matmulAdd on larger random shapes', () => {
    for (const [m, k, n] of [
      [128, 128, 128],
      [67, 131, 45],
      [1, 300, 1],
      [257, 3, 5],
      [3, 1, 700],
      [40, 600, 9],
    ] as const) {
      const a = rand(m * k);
      const b = rand(k * n);
      const acc = rand(m * n);
      for (const accumulate of [false, true]) {
        const cw = acc.slice();
        const ct = acc.slice();
        wasm().matmul(a, b, cw, m, k, n, accumulate);
        ts.matmul(a, b, ct, m, k, n, accumulate);
        assert.deepEqual(cw, ct, `${m}x${k}x${n} accumulate=${accumulate}`);
      }
    }
  });

  void it('matmulTerms: (A + A2)·B and sums of products, against the reference and chunked', () => {
    const ref = (terms: MatTerm[], m: number, k: number, n: number): BigUint64Array => {
      const c = new BigUint64Array(m * n);
      for (const t of terms) {
        const a = t.a2 === undefined ? t.a : t.a.map((v, i) => v + t.a2![i]!);
        const p = refMatmul(a, t.b, m, k, n);
        for (let i = 0; i < c.length; i++) c[i] = c[i]! + p[i]!;
      }
      return c;
    };
    for (const [m, k, n] of [
      [67, 131, 45],
      [1, 300, 1],
      [9, 3, 5],
      [20, 260, 10],
    ] as const) {
      const A = (): BigUint64Array => rand(m * k);
      const B = (): BigUint64Array => rand(k * n);
      const cases: MatTerm[][] = [
        [{ a: A(), b: B() }],
        [{ a: A(), a2: A(), b: B() }],
        [
          { a: A(), b: B() },
          { a: A(), b: B() },
        ],
        [
          { a: A(), a2: A(), b: B() },
          { a: A(), b: B() },
          { a: A(), a2: A(), b: B() },
        ],
      ];
      for (const terms of cases) {
        const want = ref(terms, m, k, n);
        const cw = rand(m * n);
        const ct = rand(m * n);
        wasm().matmulTerms(terms, cw, m, k, n);
        ts.matmulTerms(terms, ct, m, k, n);
        const what = `${m}x${k}x${n} terms=${terms.length}`;
        assert.deepEqual(cw, want, `wasm ${what}`);
        assert.deepEqual(ct, want, `ts ${what}`);
        // the public function, on each backend, and with the wasm rows chunked or falling back
        for (const be of ['wasm', 'ts'] as const)
          assert.deepEqual(
            withBackend(be, () => matmulTerms(terms, m, k, n)),
            want,
            `${be} ${what}`,
          );
        for (const budget of [9000, 60000, 200000]) {
          const prev = setWasmBudget(budget);
          try {
            assert.deepEqual(
              withBackend('wasm', () => matmulTerms(terms, m, k, n)),
              want,
              `budget ${budget} ${what}`,
            );
          } finally {
            setWasmBudget(prev);
          }
        }
      }
    }
    // the output may alias an operand
    const [m, k, n] = [6, 6, 6];
    const a = rand(36);
    const b = rand(36);
    const want = ref([{ a, a2: b, b }], m, k, n);
    assert.deepEqual(matmulTerms([{ a, a2: b, b }], m, k, n, a), want);
    throwsCode(() => matmulTerms([], 2, 2, 2), 'invalid-argument');
    throwsCode(() => matmulTerms([{ a: rand(4), a2: rand(3), b: rand(4) }], 2, 2, 2), 'shape-mismatch');
  });

  void it('conv2d on a CNN-sized layer and transpose64 on many blocks', () => {
    const shape = { n: 2, c: 8, h: 14, w: 14, o: 16, kh: 3, kw: 3, stride: 1, pad: 1 };
    const g = conv2dGeometry(shape);
    const input = rand(2 * 8 * 14 * 14);
    const weight = rand(16 * 8 * 9);
    const ow = new BigUint64Array(2 * 16 * 14 * 14);
    const ot = new BigUint64Array(ow.length);
    wasm().conv2d(input, weight, ow, g);
    ts.conv2d(input, weight, ot, g);
    assert.deepEqual(ow, ot);
    const g2 = conv2dGeometry({ ...shape, stride: 2, pad: 0 });
    const ow2 = new BigUint64Array(2 * 16 * g2.oh * g2.ow);
    const ot2 = new BigUint64Array(ow2.length);
    wasm().conv2d(input, weight, ow2, g2);
    ts.conv2d(input, weight, ot2, g2);
    assert.deepEqual(ow2, ot2);

    const x = rand(64 * 300);
    const tw = new BigUint64Array(x.length);
    const tt = new BigUint64Array(x.length);
    wasm().transpose64(x, tw);
    ts.transpose64(x, tt);
    assert.deepEqual(tw, tt);
  });
});

void describe('wasm memory budget', { skip: wasmOn ? false : 'wasm unavailable' }, () => {
  const withBudget = <T>(bytes: number, fn: () => T): T => {
    const prev = setWasmBudget(bytes);
    try {
      return withBackend('wasm', fn);
    } finally {
      setWasmBudget(prev);
    }
  };

  void it('chunks big problems (rows, images, blocks) and falls back to TS when even one chunk does not fit', () => {
    const [m, k, n] = [10, 20, 7];
    const a = rand(m * k);
    const b = rand(k * n);
    const acc0 = rand(m * n);
    const want = refMatmul(a, b, m, k, n);
    // Fixed: B (1120 B) + packed panels (1280 B) + slack (4096 B); each row of A and C 216 B more.
    // So 6500 runs in TS, 6800 one row per chunk, 7200 three rows per chunk.
    for (const budget of [6500, 6800, 7200, 1 << 20]) {
      assert.deepEqual(
        withBudget(budget, () => matmul(a, b, m, k, n)),
        want,
        `budget ${budget}`,
      );
      const acc = acc0.slice();
      withBudget(budget, () => matmulAdd(a, b, m, k, n, acc));
      assert.deepEqual(acc, addRing(acc0, want), `budget ${budget}`);
    }
    const shape = { n: 5, c: 2, h: 5, w: 5, o: 3, kh: 3, kw: 3, pad: 1 };
    const input = rand(5 * 2 * 25);
    const weight = rand(3 * 2 * 9);
    const wantConv = refConv(input, weight, shape);
    // Fixed 12160 B, 1000 B per image: TS, then chunks of 1 and 2 images.
    for (const budget of [12000, 13200, 14200]) {
      assert.deepEqual(
        withBudget(budget, () => conv2d(input, weight, shape)),
        wantConv,
        `budget ${budget}`,
      );
    }
    const x = rand(64 * 7);
    for (const budget of [100, 1024]) {
      assert.deepEqual(
        withBudget(budget, () => transpose64(x)),
        refTranspose(x),
      );
    }
    throwsCode(() => setWasmBudget(-1), 'invalid-argument');
  });
});

void describe('benchKernels', () => {
  void it('returns plain measurements for each backend and the PRG', () => {
    const res = benchKernels({ sizes: [16], minSeconds: 0, prgBytes: 1 << 16, conv: true });
    const backends = wasmOn ? ['wasm', 'ts'] : ['ts'];
    for (const b of backends) {
      const mm = res.find((r) => r.name === 'matmul' && r.backend === b);
      assert.ok(mm, `matmul ${b}`);
      assert.equal(mm.size, '16x16x16');
      assert.ok(mm.reps >= 1 && mm.seconds > 0 && (mm.gmacsPerSec ?? 0) > 0);
      assert.ok(res.some((r) => r.name === 'conv2d' && r.backend === b));
    }
    const prg = res.find((r) => r.name === 'prg');
    assert.ok(prg && (prg.gbPerSec ?? 0) > 0 && prg.backend === 'node-crypto');
    assert.doesNotThrow(() => JSON.stringify(res));
  });
});
