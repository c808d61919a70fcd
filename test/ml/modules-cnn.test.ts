/**
 * A small CNN, Conv2d(1→2, 3×3, pad 1)-ReLU-MaxPool2d(2)-Flatten-Linear(18→3), trained 3 steps with
 * CrossEntropyLoss (one-hot targets) and Adam on rep3 (f = 16), against a float64 implementation of
 * the same rules (test/ml/modules-ref.ts). The per-step loss value is computed under MPC too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretTensor } from '../../src/tensor/tensor.js';
import {
  Adam,
  Conv2d,
  CrossEntropyLoss,
  Flatten,
  Linear,
  MaxPool2d,
  ReLU,
  Sequential,
} from '../../src/ml/modules/index.js';
import { runAll } from '../protocols/conformance.js';
import {
  AdamRef,
  conv2dGradRef,
  conv2dRef,
  crossEntropyRef,
  linearGradRef,
  linearRef,
  maxAbsDiff,
  maxPoolRef,
  rep3,
  vals,
  type ConvCfg,
  type PoolCfg,
} from './modules-ref.js';

const B = 4;
const H = 6;
const OC = 2;
const CLS = 3;
const FEAT = OC * 3 * 3;
const LR = 0.01;
const STEPS = 3;
const S = 256;

const x = vals(B * H * H, 501, -1, 1);
const onehot = new Float64Array(B * CLS);
for (let i = 0; i < B; i++) onehot[i * CLS + (i % CLS)] = 1;
const Wc = vals(OC * 9, 502, -0.5, 0.5);
const bc = vals(OC, 503, -0.1, 0.1);
const Wl = vals(CLS * FEAT, 504, -0.5, 0.5);
const bl = vals(CLS, 505, -0.1, 0.1);
const conv: ConvCfg = { n: B, c: 1, h: H, w: H, o: OC, kh: 3, kw: 3, stride: 1, pad: 1 };
const pool: PoolCfg = { n: B, c: OC, h: H, w: H, k: 2, stride: 2, pad: 0 };

/** Float64: the same model, loss and optimizer rules; returns final parameters and per-step losses. */
function plain(): { params: Float64Array[]; losses: number[] } {
  const params = [Wc.slice(), bc.slice(), Wl.slice(), bl.slice()];
  const opts = { lr: LR, beta1: 0.9, beta2: 0.999, eps: 1e-8, gradScale: S, rule: 'secure' as const };
  const adam = params.map((p) => new AdamRef(p.length, opts));
  const losses: number[] = [];
  for (let t = 0; t < STEPS; t++) {
    const [wc, cb, wl, lb] = params as [Float64Array, Float64Array, Float64Array, Float64Array];
    const z1 = conv2dRef(x, wc, cb, conv);
    const a1 = z1.map((v) => Math.max(0, v));
    const p1 = maxPoolRef(a1, null, pool).y; // [B, OC, 3, 3] = [B, FEAT] row-major
    const z2 = linearRef(p1, wl, lb, B, FEAT, CLS);
    const ce = crossEntropyRef(z2, onehot, B, CLS);
    losses.push(ce.loss);
    const lg = linearGradRef(p1, wl, ce.grad, B, FEAT, CLS);
    const dA1 = maxPoolRef(a1, lg.dx, pool).dx;
    const dZ1 = dA1.map((g, i) => (z1[i]! >= 0 ? g : 0));
    const cg = conv2dGradRef(x, wc, dZ1, conv);
    const grads = [cg.dW, cg.db, lg.dW, lg.db];
    params.forEach((p, i) => adam[i]!.step(p, grads[i]!));
  }
  return { params, losses };
}

void test('CNN Conv2d-ReLU-MaxPool-Flatten-Linear, CrossEntropy + Adam, 3 steps: parameters within 1e-3 of float64, losses within 2e-3', async () => {
  const t0 = Date.now();
  const out = await runAll(rep3, async (e, me) => {
    const xs = await SecretTensor.fromOwner(e, 0, me === 0 ? x : null, [B, 1, H, H]);
    const ys = await SecretTensor.fromOwner(e, 1, me === 1 ? onehot : null, [B, CLS]);
    const model = new Sequential(
      Conv2d.create(e, 1, OC, 3, { padding: 1, weight: Wc, bias: bc }),
      new ReLU(),
      MaxPool2d.create(e, 2),
      Flatten.create(e),
      Linear.create(e, FEAT, CLS, { weight: Wl, bias: bl }),
    );
    const loss = new CrossEntropyLoss();
    const opt = new Adam(model.parameters(), { lr: LR, gradScale: S });
    const losses: number[] = [];
    for (let s = 0; s < STEPS; s++) {
      opt.zeroGrad();
      const z = await model.forward(xs);
      const [g, l] = await Promise.all([loss.grad(z, ys), loss.loss(z, ys)]);
      const dx = await model.backward(g);
      assert.deepEqual(dx.shape, [B, 1, H, H]);
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
  const moved = want.params.map((p, i) => maxAbsDiff(p, [Wc, bc, Wl, bl][i]!));
  const lossErr = maxAbsDiff(got.losses, want.losses);
  console.log(
    `CNN: ${secs.toFixed(1)} s; max parameter error per tensor [conv W, conv b, linear W, linear b] ` +
      `${errs.map((v) => v.toExponential(2)).join(', ')} (moved up to ${moved.map((v) => v.toExponential(2)).join(', ')}); ` +
      `losses MPC ${got.losses.map((v) => v.toFixed(5)).join(', ')} vs float64 ${want.losses.map((v) => v.toFixed(5)).join(', ')}`,
  );
  for (const e of errs) assert.ok(e <= 1e-3, `parameter error ${e}`);
  assert.ok(lossErr <= 2e-3, `loss error ${lossErr}`);
  // training makes progress on this batch
  assert.ok(want.losses[STEPS - 1]! < want.losses[0]!);
  assert.ok(got.losses[STEPS - 1]! < got.losses[0]!);
});
