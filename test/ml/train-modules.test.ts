import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretTensor } from '../../src/tensor/tensor.js';
import { Linear, ReLU, Sigmoid, Sequential, MSELoss, SGD } from '../../src/ml/modules/index.js';
import { Rep3Session } from '../../src/protocols/rep3/session.js';
import { runAll, type EngineFactory } from '../protocols/conformance.js';

const rep3: EngineFactory = { name: 'rep3', n: 3, create: (ch) => Rep3Session.create(ch, { f: 16 }) };

// Deterministic pseudo-random values in [−1, 1).
function vals(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = (s / 2147483648) * 2 - 1;
  }
  return out;
}

const B = 8;
const IN = 5;
const H = 4;
const x = vals(B * IN, 1).map((v) => v * 2);
const y = vals(B, 2).map((v) => (v + 1) / 2);
const W1 = vals(H * IN, 3);
const b1 = vals(H, 4);
const W2 = vals(H, 5);
const b2 = vals(1, 6);
const LR = 0.1;
const MU = 0.9;
const STEPS = 3;

/** Plaintext float64 reference: Linear-ReLU-Linear-Sigmoid, MSE, SGD with momentum (PyTorch rules). */
function plain(): number[] {
  const p = [W1.slice(), b1.slice(), W2.slice(), b2.slice()];
  const v: (Float64Array | null)[] = [null, null, null, null];
  for (let step = 0; step < STEPS; step++) {
    const [w1, c1, w2, c2] = p as [Float64Array, Float64Array, Float64Array, Float64Array];
    const g = [new Float64Array(H * IN), new Float64Array(H), new Float64Array(H), new Float64Array(1)];
    for (let i = 0; i < B; i++) {
      const z1 = new Float64Array(H);
      const h = new Float64Array(H);
      for (let o = 0; o < H; o++) {
        let s = c1[o]!;
        for (let k = 0; k < IN; k++) s += x[i * IN + k]! * w1[o * IN + k]!;
        z1[o] = s;
        h[o] = Math.max(0, s);
      }
      let z2 = c2[0]!;
      for (let o = 0; o < H; o++) z2 += h[o]! * w2[o]!;
      const out = 1 / (1 + Math.exp(-z2));
      const dOut = (2 * (out - y[i]!)) / B;
      const dz2 = dOut * out * (1 - out);
      g[3]![0]! += dz2;
      for (let o = 0; o < H; o++) {
        g[2]![o]! += dz2 * h[o]!;
        const dz1 = z1[o]! >= 0 ? dz2 * w2[o]! : 0;
        g[1]![o]! += dz1;
        for (let k = 0; k < IN; k++) g[0]![o * IN + k]! += dz1 * x[i * IN + k]!;
      }
    }
    for (let q = 0; q < 4; q++) {
      const prev = v[q];
      const vq = prev ? prev.map((pv, j) => MU * pv + g[q]![j]!) : g[q]!;
      v[q] = vq;
      p[q] = p[q]!.map((pv, j) => pv - LR * vq[j]!);
    }
  }
  return p.flatMap((a) => [...a]);
}

void test('rep3: Linear-ReLU-Linear-Sigmoid with MSE and SGD momentum matches a float64 reference', async () => {
  const out = await runAll(rep3, async (e, me) => {
    const xs = await SecretTensor.fromOwner(e, 0, me === 0 ? x : null, [B, IN]);
    const ys = await SecretTensor.fromOwner(e, 1, me === 1 ? y : null, [B, 1]);
    const model = new Sequential(
      Linear.create(e, IN, H, { weight: W1, bias: b1 }),
      new ReLU(),
      Linear.create(e, H, 1, { weight: W2, bias: b2 }),
      new Sigmoid(),
    );
    const opt = new SGD(model.parameters(), { lr: LR, momentum: MU });
    const loss = new MSELoss();
    for (let s = 0; s < STEPS; s++) {
      opt.zeroGrad();
      const pred = await model.forward(xs);
      const dx = await model.backward(await loss.grad(pred, ys));
      assert.deepEqual(dx.shape, [B, IN]);
      await opt.step();
    }
    const vals = await Promise.all(model.parameters().map((p) => p.value.reveal()));
    return vals.flatMap((a) => [...a!]);
  });
  const want = plain();
  const got = out[0]!;
  assert.equal(got.length, want.length);
  let maxErr = 0;
  for (let j = 0; j < want.length; j++) maxErr = Math.max(maxErr, Math.abs(got[j]! - want[j]!));
  console.log(`modules: max parameter error after ${STEPS} momentum steps ${maxErr.toExponential(3)}`);
  // sigmoid error ≤ 5e-4 enters the gradient scaled by lr·2/B·|x|; a few ulps of truncation each step
  assert.ok(maxErr <= 2e-3, `max error ${maxErr}`);
});
