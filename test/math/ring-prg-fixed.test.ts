import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as R from '../../src/math/ring.js';
import { Prg, deriveSeed, randomSeed } from '../../src/math/prg.js';
import {
  encode,
  decode,
  fromInts,
  toInts,
  checkRange,
  productSafeBound,
  representableBound,
} from '../../src/math/fixed.js';
import { toPlanes, fromPlanes, planeBits } from '../../src/math/bits.js';
import { isShareholdError } from '../../src/errors.js';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const M = (v: bigint): bigint => BigInt.asUintN(64, v);

void test('ring ops agree with a BigInt mod 2^64 reference (property)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(u64, u64), { minLength: 1, maxLength: 50 }),
      fc.integer({ min: 0, max: 63 }),
      (pairs, k) => {
        const a = BigUint64Array.from(pairs.map((p) => p[0]));
        const b = BigUint64Array.from(pairs.map((p) => p[1]));
        const kk = BigInt(k);
        assert.deepEqual(
          [...R.add(a, b)],
          pairs.map(([x, y]) => M(x + y)),
        );
        assert.deepEqual(
          [...R.sub(a, b)],
          pairs.map(([x, y]) => M(x - y)),
        );
        assert.deepEqual(
          [...R.mul(a, b)],
          pairs.map(([x, y]) => M(x * y)),
        );
        assert.deepEqual(
          [...R.neg(a)],
          pairs.map(([x]) => M(-x)),
        );
        assert.deepEqual(
          [...R.shl(a, k)],
          pairs.map(([x]) => M(x << kk)),
        );
        assert.deepEqual(
          [...R.shrLogical(a, k)],
          pairs.map(([x]) => x >> kk),
        );
        assert.deepEqual(
          [...R.shrArith(a, k)],
          pairs.map(([x]) => M(BigInt.asIntN(64, x) >> kk)),
        );
        assert.equal(R.sum(a), M(pairs.reduce((s, [x]) => s + x, 0n)));
        assert.deepEqual(
          [...R.extractBit(a, k)],
          pairs.map(([x]) => Number((x >> kk) & 1n)),
        );
        const bits = R.extractBit(a, k);
        assert.deepEqual([...R.unpackBits(R.packBits(bits), bits.length)], [...bits]);
      },
    ),
    { numRuns: 200 },
  );
});

void test('bit planes: toPlanes/fromPlanes round trip for every length 0..70 and partial ranges', () => {
  for (let n = 1; n <= 70; n++) {
    const x = new Prg(randomSeed()).ring(n);
    x[0] = (1n << 64n) - 1n;
    assert.deepEqual([...fromPlanes(toPlanes(x), n)], [...x]);
    const p = toPlanes(x, 20, 30);
    assert.deepEqual(
      [...fromPlanes(p, n, 20, 30)],
      [...x].map((v) => v & (((1n << 20n) - 1n) << 30n)),
    );
    assert.deepEqual(
      [...planeBits(toPlanes(x), 63, n)],
      [...x].map((v) => Number(v >> 63n)),
    );
  }
});

void test('PRG: AES-128-CTR known answer (NIST SP 800-38A F.5.1)', () => {
  const key = Buffer.from('2b7e151628aed2a6abf7158809cf4f3c', 'hex');
  const iv = Buffer.from('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff', 'hex');
  const pt = Buffer.from(
    '6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710',
    'hex',
  );
  const ct =
    '874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee';
  const prg = new Prg(key, iv);
  // two calls must continue the same stream
  const ks = Buffer.concat([prg.bytes(17), prg.bytes(47)]);
  const out = Buffer.alloc(64);
  for (let i = 0; i < 64; i++) out[i] = ks[i]! ^ pt[i]!;
  assert.equal(out.toString('hex'), ct);
  assert.equal(prg.consumed, 64);
});

void test('PRG: same seed → same stream; different seeds and derived labels differ', () => {
  const s = randomSeed();
  assert.deepEqual(new Prg(s).ring(1000), new Prg(s).ring(1000));
  assert.notDeepEqual(new Prg(s).ring(4), new Prg(randomSeed()).ring(4));
  assert.notDeepEqual(deriveSeed(s, 'a'), deriveSeed(s, 'b'));
  assert.deepEqual(deriveSeed(s, 'a'), deriveSeed(s, 'a'));
  assert.throws(() => new Prg(new Uint8Array(8)));
  // a large request is produced in bulk and is not all zero
  const big = new Prg(s).bytes(3 << 20);
  assert.ok(big.some((b) => b !== 0));
});

void test('PRG: stream, xorInto, ring, words and bytes continue the one keystream that fill gives', () => {
  const s = randomSeed();
  // request sizes around the 256 KiB cipher-call chunk, mixed, odd lengths included
  const sizes = [1, 7, 8, 4096, (1 << 18) - 3, 1 << 18, (1 << 18) + 5, 3 << 19, 0, 13];
  const total = sizes.reduce((a, b) => a + b, 0);
  const ref = new Prg(s).fill(new Uint8Array(total));
  const prg = new Prg(s);
  let off = 0;
  sizes.forEach((n, k) => {
    let got: Uint8Array;
    if (k % 3 === 0) got = prg.stream(n);
    else if (k % 3 === 1) {
      const data = new Uint8Array(n).map((_, i) => (i * 37) & 255);
      got = prg.xorInto(data.slice());
      for (let i = 0; i < n; i++) got[i]! ^= data[i]!; // keystream = (data ⊕ ks) ⊕ data
    } else got = prg.bytes(n);
    assert.equal(got.length, n);
    assert.deepEqual(got, ref.subarray(off, off + n), `request ${k} of ${n} bytes`);
    off += n;
  });
  assert.equal(prg.consumed, total);
  // a stream buffer spans its whole ArrayBuffer, so typed views of it are safe
  const r = new Prg(s).ring(1000);
  assert.equal(r.byteOffset, 0);
  assert.equal(r.buffer.byteLength, 8000);
  assert.deepEqual(new Uint8Array(r.buffer), ref.subarray(0, 8000));
  const w = new Prg(s).words(333);
  assert.deepEqual(new Uint8Array(w.buffer, 0, 1332), ref.subarray(0, 1332));
});

void test('fixed point: encode/decode within half an ulp; integers exact (property)', () => {
  for (const f of [0, 8, 16, 24]) {
    const bound = Math.min(productSafeBound(f), 1e6);
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -bound, max: bound, noNaN: true }), { minLength: 1, maxLength: 30 }),
        (xs) => {
          const d = decode(encode(xs, f), f);
          xs.forEach((x, i) =>
            assert.ok(Math.abs(d[i]! - x) <= 2 ** -(f + 1) + 1e-12, `f=${f} x=${x} got ${d[i]}`),
          );
        },
      ),
      { numRuns: 50 },
    );
  }
  const ints = [0, 1, -1, 2 ** 52, -(2 ** 52), 123456789];
  assert.deepEqual([...toInts(fromInts(ints))], ints);
  assert.equal(fromInts([-1])[0], (1n << 64n) - 1n);
});

void test("fixed point: encode rounds exactly as Math.round(x·2^f), two's complement, every magnitude", () => {
  /** The reference: Math.round, then the two 32-bit halves through BigInt. */
  const ref = (x: number, f: number): bigint => BigInt.asUintN(64, BigInt(Math.round(x * 2 ** f)));
  const ulp = 2 ** -53;
  const w = new Prg(randomSeed()).words(20000);
  const u = (i: number): number => w[i]! / 2 ** 32; // uniform in [0, 1)
  let next = 0;
  for (const f of [0, 1, 8, 16, 24, 30]) {
    const xs: number[] = [0, -0, 5e-324, -5e-324, 1e-320, -1e-320];
    for (const k of [0, 1, 2, 3, 7, 100, 2 ** 20, 2 ** 31 - 1, 2 ** 31, 2 ** 40 + 1]) {
      for (const frac of [0, 0.5, 0.25, 0.75, 0.5 - ulp, 0.5 + ulp, 1 - ulp, ulp]) {
        const t = k + frac;
        xs.push(t / 2 ** f, -t / 2 ** f);
      }
    }
    for (let i = 0; i < 1500; i++, next += 2) xs.push((u(next) - 0.5) * 2 ** (u(next + 1) * (60 - f)));
    const ok = xs.filter((x) => Math.abs(x) < representableBound(f));
    const got = encode(ok, f);
    ok.forEach((x, i) => assert.equal(got[i], ref(x, f), `f=${f} x=${x}`));
  }
  // a typed-array input and a plain array give the same ring values
  const fx = Float64Array.from({ length: 100 }, (_, i) => (u(next + i) - 0.5) * 1000);
  assert.deepEqual(encode(fx, 16), encode(Array.from(fx), 16));
});

void test('fixed point: refuses values outside the representable range and NaN; warns past the product-safe bound', () => {
  const f = 16;
  assert.throws(
    () => encode([representableBound(f)], f),
    (e) => isShareholdError(e, 'fixed-point-range'),
  );
  assert.throws(
    () => encode([Number.NaN], f),
    (e) => isShareholdError(e, 'fixed-point-range'),
  );
  const warnings: string[] = [];
  encode([productSafeBound(f) * 2], f, { onWarning: (w) => warnings.push(w) });
  assert.equal(warnings.length, 1);
  const rep = checkRange([1, -2, 3], f);
  assert.equal(rep.ok, true);
  assert.equal(rep.maxAbs, 3);
  assert.equal(rep.warnings.length, 0);
  // the error names the bound and the largest magnitude, never the other input values
  assert.throws(
    () => encode([12345.678, 1e30], f),
    (e: unknown) => isShareholdError(e, 'fixed-point-range') && !e.message.includes('12345.678'),
  );
});
