/**
 * A tanh MLP, Linear(4→6)-Tanh-Linear(6→2), trained 4 steps with MSELoss and SGD (momentum 0.9) on
 * rep3 (f = 16) against a float64 implementation of the same rules; the per-step loss value is
 * computed under MPC too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretTensor } from '../../src/tensor/tensor.js';
import { Linear, MSELoss, SGD, Sequential, Tanh } from '../../src/ml/modules/index.js';
import { runAll } from '../protocols/conformance.js';
import { linearGradRef, linearRef, maxAbsDiff, rep3, vals } from './modules-ref.js';

const B = 8;
const IN = 4;
const HID = 6;
const OUT = 2;
const LR = 0.1;
const MU = 0.9;
const STEPS = 4;

const x = vals(B * IN, 601, -2, 2);
const y = vals(B * OUT, 602, -0.8, 0.8);
const W1 = vals(HID * IN, 603, -0.7, 0.7);
const b1 = vals(HID, 604, -0.2, 0.2);
const W2 = vals(OUT * HID, 605, -0.7, 0.7);
const b2 = vals(OUT, 606, -0.2, 0.2);

function plain(): { params: Float64Array[]; losses: number[] } {
  const params = [W1.slice(), b1.slice(), W2.slice(), b2.slice()];
  const vel: (Float64Array | null)[] = [null, null, null, null];
  const losses: number[] = [];
  for (let t = 0; t < STEPS; t++) {
    const [w1, c1, w2, c2] = params as [Float64Array, Float64Array, Float64Array, Float64Array];
    const h = linearRef(x, w1, c1, B, IN, HID).map(Math.tanh);
    const out = linearRef(h, w2, c2, B, HID, OUT);
    let l = 0;
    const g = out.map((o, i) => {
      l += (o - y[i]!) ** 2;
      return (2 * (o - y[i]!)) / out.length;
    });
    losses.push(l / out.length);
    const l2 = linearGradRef(h, w2, g, B, HID, OUT);
    const dz = l2.dx.map((d, i) => d * (1 - h[i]! ** 2));
    const l1 = linearGradRef(x, w1, dz, B, IN, HID);
    const grads = [l1.dW, l1.db, l2.dW, l2.db];
    params.forEach((p, q) => {
      const prev = vel[q];
      const v = prev ? prev.map((pv, j) => MU * pv + grads[q]![j]!) : grads[q]!;
      vel[q] = v;
      params[q] = p.map((pv, j) => pv - LR * v[j]!);
    });
  }
  return { params, losses };
}

void test('tanh MLP with MSE and SGD momentum, 4 steps: parameters within 2e-3 of float64, losses within 1e-3', async () => {
  const t0 = Date.now();
  const out = await runAll(rep3, async (e, me) => {
    const xs = await SecretTensor.fromOwner(e, 0, me === 0 ? x : null, [B, IN]);
    const ys = await SecretTensor.fromOwner(e, 2, me === 2 ? y : null, [B, OUT]);
    const model = new Sequential(
      Linear.create(e, IN, HID, { weight: W1, bias: b1 }),
      Tanh.create(e),
      Linear.create(e, HID, OUT, { weight: W2, bias: b2 }),
    );
    const loss = new MSELoss();
    const opt = new SGD(model.parameters(), { lr: LR, momentum: MU });
    const losses: number[] = [];
    for (let s = 0; s < STEPS; s++) {
      opt.zeroGrad();
      const pred = await model.forward(xs);
      const [g, l] = await Promise.all([loss.grad(pred, ys), loss.loss(pred, ys)]);
      await model.backward(g);
      await opt.step();
      losses.push((await l.reveal())![0]!);
    }
    const params = await Promise.all(model.parameters().map(async (p) => (await p.value.reveal())!));
    return { params, losses };
  });
  const secs = (Date.now() - t0) / 1000;
  const got = out[0]!;
  const want = plain();
  const errs = got.params.map((p, i) => maxAbsDiff(p, want.params[i]!));
  const lossErr = maxAbsDiff(got.losses, want.losses);
  console.log(
    `tanh MLP: ${secs.toFixed(1)} s; max parameter error per tensor ${errs.map((v) => v.toExponential(2)).join(', ')}; ` +
      `losses MPC ${got.losses.map((v) => v.toFixed(5)).join(', ')} vs float64 ${want.losses.map((v) => v.toFixed(5)).join(', ')}`,
  );
  // tanh's ≤ 1e-3 error enters the gradients scaled by lr·2/N·|W|, plus a few ulps per step
  for (const e of errs) assert.ok(e <= 2e-3, `parameter error ${e}`);
  assert.ok(lossErr <= 1e-3, `loss error ${lossErr}`);
  assert.ok(want.losses[STEPS - 1]! < want.losses[0]!);
  assert.ok(got.losses[STEPS - 1]! < got.losses[0]!);
});
