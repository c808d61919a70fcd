/**
 * F_p (p = 2^127 − 1) kernels: wasm and TypeScript backends against a BigInt reference, on random
 * and extreme values, plus the ring ↔ field maps and the wire checks.
 */
import assert from 'node:assert/strict';
import { randomFillSync, randomInt } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import * as F from '../../src/math/field.js';
import { isShareholdError } from '../../src/errors.js';

const P = F.P;
const EXTREMES = [
  0n,
  1n,
  2n,
  P - 1n,
  P - 2n,
  1n << 126n,
  (1n << 126n) - 1n,
  1n << 64n,
  (1n << 64n) - 1n,
  1n << 63n,
];
const envDisabled = ['0', 'false', 'off', 'no'].includes((process.env['SHAREHOLD_WASM'] ?? '').toLowerCase());
const wasmOn = F.fieldWasmUnavailableReason() === undefined;
const backends: F.FieldBackendName[] = wasmOn ? ['wasm', 'ts'] : ['ts'];

function randElems(n: number): bigint[] {
  const w = randomFillSync(new BigUint64Array(2 * n));
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) {
    if (randomInt(6) === 0) out.push(EXTREMES[randomInt(EXTREMES.length)]!);
    else out.push((w[2 * i]! + (w[2 * i + 1]! << 64n)) % P);
  }
  return out;
}

void describe('field F_p, p = 2^127 − 1', () => {
  void it('loads the wasm backend unless disabled', () => {
    if (!envDisabled) assert.ok(wasmOn, F.fieldWasmUnavailableReason());
    else assert.equal(F.fieldBackend(), 'ts');
  });

  for (const be of backends) {
    void it(`[${be}] mul matches BigInt on random and extreme values`, async () => {
      await F.withFieldBackend(be, () => {
        const a = randElems(3000);
        const b = randElems(3000);
        for (const x of EXTREMES)
          for (const y of EXTREMES) {
            a.push(x);
            b.push(y);
          }
        const got = F.toBigInts(F.mul(F.fromBigInts(a), F.fromBigInts(b)));
        got.forEach((g, i) => assert.equal(g, (a[i]! * b[i]!) % P, `element ${i}`));
      });
    });

    void it(`[${be}] matmul (lazy accumulation) and lincomb match BigInt`, async () => {
      await F.withFieldBackend(be, () => {
        for (const [m, k, n] of [
          [3, 5, 4],
          [1, 40, 7],
          [6, 1, 9],
          [2, 300, 3],
        ] as const) {
          const a = randElems(m * k).map((v, i) => (i % 3 === 0 ? P - 1n : v));
          const b = randElems(k * n).map((v, i) => (i % 4 === 0 ? P - 1n : v));
          const c = F.toBigInts(F.matmul(F.fromBigInts(a), F.fromBigInts(b), m, k, n));
          for (let i = 0; i < m; i++)
            for (let j = 0; j < n; j++) {
              let s = 0n;
              for (let t = 0; t < k; t++) s += a[i * k + t]! * b[t * n + j]!;
              assert.equal(c[i * n + j], s % P, `${m}x${k}x${n} at ${i},${j}`);
            }
        }
        const vs = [randElems(50), randElems(50), randElems(50)];
        const cs = [P - 1n, 7n, 1n << 120n];
        const lc = F.toBigInts(
          F.lincomb(
            cs,
            vs.map((v) => F.fromBigInts(v)),
          ),
        );
        lc.forEach((g, i) =>
          assert.equal(g, (cs[0]! * vs[0]![i]! + cs[1]! * vs[1]![i]! + cs[2]! * vs[2]![i]!) % P),
        );
      });
    });

    void it(`[${be}] powBit is x^(2^125 − 1) and turns squares into ±1`, async () => {
      await F.withFieldBackend(be, () => {
        const r = randElems(be === 'ts' ? 10 : 300).map((v) => (v === 0n ? 5n : v));
        const sq = F.mul(F.fromBigInts(r), F.fromBigInts(r));
        const u = F.toBigInts(F.powBit(sq));
        const sqB = F.toBigInts(sq);
        let plus = 0;
        for (let i = 0; i < r.length; i++) {
          assert.equal(u[i], F.powP(sqB[i]!, (1n << 125n) - 1n));
          const s = (u[i]! * r[i]!) % P;
          assert.ok(s === 1n || s === P - 1n);
          if (s === 1n) plus++;
        }
        if (be === 'wasm') assert.ok(plus > 100 && plus < 200, `${plus} of 300 are +1`);
      });
    });
  }

  void it('add, sub, neg match BigInt (property)', () => {
    const elem = fc.oneof(fc.bigInt({ min: 0n, max: P - 1n }), fc.constantFrom(...EXTREMES));
    fc.assert(
      fc.property(fc.array(fc.tuple(elem, elem), { minLength: 1, maxLength: 40 }), (pairs) => {
        const a = F.fromBigInts(pairs.map((p) => p[0]));
        const b = F.fromBigInts(pairs.map((p) => p[1]));
        const s = F.toBigInts(F.add(a, b));
        const d = F.toBigInts(F.sub(a, b));
        const ng = F.toBigInts(F.neg(a));
        pairs.forEach(([x, y], i) => {
          assert.equal(s[i], (x + y) % P);
          assert.equal(d[i], F.modP(x - y));
          assert.equal(ng[i], F.modP(-x));
        });
      }),
      { numRuns: 200 },
    );
  });

  void it('signed ring words round-trip and agree with ring arithmetic', () => {
    const w = randomFillSync(new BigUint64Array(1000));
    w[0] = 0n;
    w[1] = (1n << 63n) - 1n;
    w[2] = 1n << 63n;
    w[3] = (1n << 64n) - 1n;
    const x = F.fromSigned(w);
    assert.deepEqual([...F.toSigned(x)], [...w]);
    F.toBigInts(x).forEach((v, i) => assert.equal(v, F.modP(BigInt.asIntN(64, w[i]!))));
    // a product of two int64 values read back mod 2^64 equals the ring product
    const y = randomFillSync(new BigUint64Array(1000));
    const prod = F.toSigned(F.mul(x, F.fromSigned(y)));
    for (let i = 0; i < 1000; i++) assert.equal(prod[i], BigInt.asUintN(64, w[i]! * y[i]!));
  });

  void it('refuses malformed or non-canonical wire data', () => {
    const good = F.fromBigInts([1n, P - 1n]);
    assert.deepEqual(F.toBigInts(F.fromBytes(F.toBytes(good), 2, 1)), [1n, P - 1n]);
    assert.throws(
      () => F.fromBytes(new Uint8Array(17), 1, 3),
      (e) => isShareholdError(e, 'frame-malformed'),
    );
    const bad = F.fromBigInts([0n]);
    bad[0] = (1n << 64n) - 1n;
    bad[1] = (1n << 63n) - 1n; // = p
    assert.throws(
      () => F.fromBytes(F.toBytes(bad), 1, 2),
      (e) => isShareholdError(e, 'frame-malformed'),
    );
  });

  void it('bounded random values stay in range', async () => {
    const { Prg, randomSeed } = await import('../../src/math/prg.js');
    const v = F.toBigInts(F.randomBounded(new Prg(randomSeed()), 1000, 45));
    assert.ok(v.every((x) => x < 1n << 45n));
    assert.ok(v.some((x) => x >= 1n << 44n));
  });
});
