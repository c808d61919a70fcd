import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretTensor } from '../../src/tensor/tensor.js';
import { BCEWithLogitsLoss } from '../../src/ml/modules/index.js';
import { logitWidth } from '../../src/ml/model.js';
import { Rep3Session } from '../../src/protocols/rep3/session.js';
import { isShareholdError } from '../../src/errors.js';
import { runAll, type EngineFactory } from '../protocols/conformance.js';

const rep3: EngineFactory = { name: 'rep3', n: 3, create: (ch) => Rep3Session.create(ch, { f: 16 }) };

const sig3 = (v: number): number => (v < -0.5 ? 0 : v > 0.5 ? 1 : v + 0.5);

/** Logits over [−R, R] away from the pieces' edges ±1/2 (by ≥ 10^-3) and 0/1 labels. */
function data(B: number, R: number): { z: Float64Array; y: Float64Array } {
  const z = Float64Array.from({ length: B }, (_, i) => {
    const v = (((i * 7919) % 1009) / 1009) * 2 * R - R;
    return Math.abs(Math.abs(v) - 0.5) < 1e-3 ? v + 2e-3 : v;
  });
  // dense near the pieces too
  for (let i = 0; i < Math.min(B, 32); i++) z[i] = -0.9 + (1.8 * i) / 31 + 1.3e-3;
  const y = Float64Array.from({ length: B }, (_, i) => ((i * 13) % 5 < 2 ? 1 : 0));
  return { z, y };
}

void test('BCE with logits, 3-piece sigmoid: 1/B folded into the product, full and narrow comparison vs float64', async () => {
  const cases = [
    { B: 128, R: 1000, width: logitWidth(1000, 16) }, // power-of-two B: 1/B encoded exactly
    { B: 128, R: 3, width: 64 },
    { B: 40, R: 60, width: logitWidth(60, 16) }, // 1/40 encoded with relative error ≤ 2.4·10^-4
    { B: 16, R: 8, width: 64 },
  ];
  assert.equal(logitWidth(1000, 16), 34);
  assert.equal(logitWidth(1e6, 16), 40);
  assert.equal(logitWidth(1e15, 16), 64);
  assert.equal(logitWidth(Infinity, 16), 64);
  for (const { B, R, width } of cases) {
    const { z, y } = data(B, R);
    const want = Float64Array.from(z, (v, i) => (sig3(v) - y[i]!) / B);
    const [got] = await runAll(rep3, async (e, me) => {
      const zs = await SecretTensor.fromOwner(e, 0, me === 0 ? z : null, [B, 1]);
      const ys = await SecretTensor.fromOwner(e, 1, me === 1 ? y : null, [B, 1]);
      const loss = new BCEWithLogitsLoss<unknown>('piecewise3', width);
      const g = await loss.grad(zs, ys);
      await assert.rejects(loss.grad(zs, zs.reshape([1, B])), (err) =>
        isShareholdError(err, 'invalid-argument'),
      );
      assert.deepEqual(g.shape, [B, 1]);
      return g.reveal();
    });
    let maxErr = 0;
    for (let i = 0; i < B; i++) maxErr = Math.max(maxErr, Math.abs(got![i]! - want[i]!));
    console.log(`piecewise3 BCE grad B=${B} |z| ≤ ${R} width ${width}: max error ${maxErr.toExponential(2)}`);
    // two truncations (≤ 2 ulp = 3.1·10^-5) plus the encoding of 1/B (≤ 2^-17 per unit of |σ − y| ≤ 1)
    assert.ok(maxErr <= 2 * 2 ** -16 + 2 ** -17, `B=${B} width ${width}: error ${maxErr}`);
  }
});
