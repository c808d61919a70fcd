import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretTensor } from '../../src/tensor/tensor.js';
import { BCEWithLogitsLoss } from '../../src/ml/modules/index.js';
import { logitWidth, logreg, publicPermutation } from '../../src/ml/model.js';
import { Rep3Session } from '../../src/protocols/rep3/session.js';
import { isShareholdError } from '../../src/errors.js';
import { runAll, type EngineFactory } from '../protocols/conformance.js';

const rep3: EngineFactory = { name: 'rep3', n: 3, create: (ch) => Rep3Session.create(ch, { f: 16 }) };
/** With sign hints: the Linear layer's logits carry them, the residual is the trees plus one round. */
const rep3Hints: EngineFactory = {
  name: 'rep3+hints',
  n: 3,
  create: (ch) => Rep3Session.create(ch, { f: 16, signHints: true }),
};

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
  assert.equal(logitWidth(1000, 16), 33);
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

void test('BCE with logits, 3-piece sigmoid: gradient from targets pre-scaled once (training path) vs float64', async () => {
  const loss0 = new BCEWithLogitsLoss<unknown>('exact');
  assert.equal(loss0.prescaled, undefined); // only the 3-piece sigmoid has it
  for (const { B, R, width } of [
    { B: 128, R: 1000, width: 33 },
    { B: 40, R: 2, width: 64 },
  ]) {
    const { z, y } = data(B, R);
    const c = 1 / B;
    const want = Float64Array.from(z, (v, i) => (sig3(v) - y[i]!) / B);
    const [got] = await runAll(rep3, async (e, me) => {
      const zs = await SecretTensor.fromOwner(e, 0, me === 0 ? z : null, [B, 1]);
      const ys = await SecretTensor.fromOwner(e, 1, me === 1 ? y : null, [B, 1]);
      const ps = new BCEWithLogitsLoss<unknown>('piecewise3', width).prescaled!;
      const g = await ps.grad(zs, await ps.scale(ys, c), c);
      await assert.rejects(ps.grad(zs, zs.reshape([1, B]), c), (err) =>
        isShareholdError(err, 'invalid-argument'),
      );
      return g.reveal();
    });
    let maxErr = 0;
    for (let i = 0; i < B; i++) maxErr = Math.max(maxErr, Math.abs(got![i]! - want[i]!));
    console.log(
      `piecewise3 BCE prescaled grad B=${B} |z| ≤ ${R} width ${width}: max error ${maxErr.toExponential(2)}`,
    );
    // one truncation for the product, one for c·y, plus the encoding of c (≤ 2^-17 per unit)
    assert.ok(maxErr <= 2 * 2 ** -16 + 2 ** -17, `B=${B} width ${width}: error ${maxErr}`);
  }
});

/** Float64 mini-batch SGD for logistic regression with the 3-piece sigmoid (zero init, batch mean). */
function plainFit3(
  X: Float64Array,
  Y: Float64Array,
  D: number,
  B: number,
  epochs: number,
  lr: number,
  seed?: number,
): number[] {
  const N = Y.length;
  const w = new Float64Array(D + 1);
  for (let ep = 0; ep < epochs; ep++) {
    const perm =
      seed === undefined ? Int32Array.from({ length: N }, (_, i) => i) : publicPermutation(seed, ep, N);
    for (let s = 0; s < N; s += B) {
      const rows = Math.min(N, s + B) - s;
      const g = new Float64Array(D + 1);
      for (let r = s; r < s + rows; r++) {
        const i = perm[r]!;
        let z = w[D]!;
        for (let j = 0; j < D; j++) z += w[j]! * X[i * D + j]!;
        const d = (sig3(z) - Y[i]!) / rows;
        for (let j = 0; j < D; j++) g[j] = g[j]! + d * X[i * D + j]!;
        g[D] = g[D]! + d;
      }
      for (let j = 0; j <= D; j++) w[j] = w[j]! - lr * g[j]!;
    }
  }
  return [...w];
}

void test('Model.fit, 3-piece sigmoid (pre-scaled targets, narrow comparison), partial last batch, with and without shuffling, vs float64', async () => {
  const N = 70;
  const D = 4;
  const X = Float64Array.from({ length: N * D }, (_, i) => (((i * 7919) % 401) / 401) * 4 - 2);
  const Y = Float64Array.from({ length: N }, (_, i) => (X[i * D]! - 0.5 * X[i * D + 1]! + 0.3 > 0 ? 1 : 0));
  for (const [seed, factory] of [
    [undefined, rep3],
    [3, rep3],
    [undefined, rep3Hints], // the logits' sign hints: the residual in the trees plus one round
    [3, rep3Hints],
  ] as const) {
    const want = plainFit3(X, Y, D, 16, 3, 0.5, seed); // batches 16, 16, 16, 16, 6
    const out = await runAll(factory, async (e, me) => {
      const model = logreg(e, { inFeatures: D, sigmoid: 'piecewise3' });
      const x = await SecretTensor.fromOwner(e, 0, me === 0 ? X : null, [N, D]);
      const y = await SecretTensor.fromOwner(e, 1, me === 1 ? Y : null, [N, 1]);
      await model.fit(x, y, {
        epochs: 3,
        batchSize: 16,
        lr: 0.5,
        logitBound: 100,
        ...(seed !== undefined ? { shuffleSeed: seed } : {}),
      });
      const p = await model.revealParameters([0]);
      return p && [...p['0.weight']!.values, ...p['0.bias']!.values];
    });
    const got = out[0]!;
    const err = Math.max(...got.map((v, j) => Math.abs(v - want[j]!)));
    console.log(
      `fit piecewise3 ${factory.name} ${seed === undefined ? 'file order' : 'shuffled'}: max |w − w_float64| ${err.toExponential(2)} (|w| up to ${Math.max(...want.map(Math.abs)).toFixed(3)})`,
    );
    assert.ok(err <= 2e-3, `parameter error ${err}`);
  }
});
