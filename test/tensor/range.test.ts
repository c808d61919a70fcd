/** RangeTracker: worst-case bound propagation and the product-safe / representable limits. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RangeTracker } from '../../src/tensor/index.js';
import { isShareholdError } from '../../src/errors.js';

void test('RangeTracker passes a small MLP and reports nothing', () => {
  const rt = new RangeTracker(16);
  const x = rt.input([128, 30], 5, 'x');
  const w1 = rt.input([30, 16], 1, 'w1');
  const h = rt.monotone(rt.matmul(x, w1, 'layer1'), 'relu1');
  assert.equal(h.maxAbs, 30 * 5 + 2 ** -16);
  assert.deepEqual(h.shape, [128, 16]);
  const w2 = rt.input([16, 1], 1, 'w2');
  const y = rt.add(rt.matmul(h, w2, 'layer2'), rt.input([1], 1, 'b2'));
  assert.deepEqual(y.shape, [128, 1]);
  rt.mean(y, 0, 'loss');
  assert.ok(rt.ok, rt.report());
  assert.match(rt.report(), /every worst-case bound fits/);
});

void test('RangeTracker flags a matmul whose accumulated products exceed 2^(62-2f), naming the step', () => {
  const rt = new RangeTracker(16);
  const a = rt.input([4, 10000], 100, 'a');
  const b = rt.input([10000, 4], 100, 'b');
  rt.matmul(a, b, 'big'); // 10^4 · 100 · 100 = 10^8 < 2^30: fine
  assert.ok(rt.ok);
  const c = rt.input([10000, 4], 2000, 'c');
  rt.matmul(a, c, 'too-big'); // 2·10^9 > 2^30
  assert.equal(rt.ok, false);
  assert.equal(rt.issues.length, 1);
  assert.equal(rt.issues[0]!.label, 'too-big');
  assert.equal(rt.issues[0]!.limit, 2 ** 30);
  assert.match(rt.report(), /too-big \(matmul\).*2\^30/);
  assert.throws(
    () => rt.assertOk(),
    (e: unknown) => isShareholdError(e, 'fixed-point-range') && /too-big/.test(e.message),
  );
});

void test('RangeTracker: elementwise mul, conv2d, scale and sum limits depend on f', () => {
  const rt = new RangeTracker(20); // product limit 2^22, value limit 2^42
  const a = rt.input([2, 3], 3000, 'a');
  rt.mul(a, a, 'sq'); // 9·10^6 > 4.19·10^6
  rt.scale(a, 2, 'int-scale'); // integer scalar: no truncation, fine
  rt.scale(a, 1500.5, 'frac-scale'); // 4.5·10^6 > 2^22
  const x = rt.input([1, 3, 8, 8], 10, 'x');
  const w = rt.input([4, 3, 3, 3], 1, 'w');
  rt.conv2d(x, w, [1, 4, 6, 6], 'conv'); // 27·10 = 270: fine
  const s = rt.sum(rt.input([2 ** 20, 8], 2 ** 22, 'big'), 0, 'sum'); // 2^42: not representable
  assert.deepEqual(s.shape, [8]);
  assert.deepEqual(
    rt.issues.map((i) => i.label),
    ['sq', 'frac-scale', 'sum'],
  );
  assert.throws(() => rt.input([1], Number.NaN));
});
