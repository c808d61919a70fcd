/**
 * The modules are written against the Engine interface; this runs a CNN step (Conv2d, ReLU,
 * MaxPool2d, Flatten, Linear, CrossEntropy) and Adam on Shamir n = 3, t = 1 (f = 16) against the
 * float64 reference, with the rep3 tolerances.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretTensor } from '../../src/tensor/tensor.js';
import { ShamirSession } from '../../src/protocols/shamir/session.js';
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
import { runAll, type EngineFactory } from '../protocols/conformance.js';
import {
  AdamRef,
  conv2dGradRef,
  conv2dRef,
  crossEntropyRef,
  linearGradRef,
  linearRef,
  maxAbsDiff,
  maxPoolRef,
  ULP,
  vals,
  type ConvCfg,
  type PoolCfg,
} from './modules-ref.js';

const shamir: EngineFactory = {
  name: 'shamir',
  n: 3,
  create: (ch) => ShamirSession.create(ch, { t: 1, f: 16 }),
};

const B = 2;
const H = 4;
const OC = 2;
const CLS = 3;
const FEAT = OC * 2 * 2;
const LR = 0.01;
const x = vals(B * H * H, 701);
const onehot = Float64Array.of(1, 0, 0, 0, 0, 1);
const Wc = vals(OC * 9, 702, -0.5, 0.5);
const bc = vals(OC, 703, -0.1, 0.1);
const Wl = vals(CLS * FEAT, 704, -0.5, 0.5);
const bl = vals(CLS, 705, -0.1, 0.1);
const conv: ConvCfg = { n: B, c: 1, h: H, w: H, o: OC, kh: 3, kw: 3, stride: 1, pad: 1 };
const pool: PoolCfg = { n: B, c: OC, h: H, w: H, k: 2, stride: 2, pad: 0 };

void test('shamir n=3 t=1: CNN gradients (≤ 1e-3/B + 10 ulp) and one Adam step (≤ 1e-3, as the rep3 CNN test) match float64', async () => {
  const out = await runAll(shamir, async (e, me) => {
    const xs = await SecretTensor.fromOwner(e, 0, me === 0 ? x : null, [B, 1, H, H]);
    const ys = await SecretTensor.fromOwner(e, 1, me === 1 ? onehot : null, [B, CLS]);
    const model = new Sequential(
      Conv2d.create(e, 1, OC, 3, { padding: 1, weight: Wc, bias: bc }),
      new ReLU(),
      MaxPool2d.create(e, 2),
      Flatten.create(e),
      Linear.create(e, FEAT, CLS, { weight: Wl, bias: bl }),
    );
    const opt = new Adam(model.parameters(), { lr: LR });
    const z = await model.forward(xs);
    await model.backward(await new CrossEntropyLoss().grad(z, ys));
    const grads = await Promise.all(model.parameters().map(async (p) => (await p.grad!.reveal())!));
    await opt.step();
    const params = await Promise.all(model.parameters().map(async (p) => (await p.value.reveal())!));
    return { grads, params };
  });
  const got = out[0]!;
  // float64
  const z1 = conv2dRef(x, Wc, bc, conv);
  const a1 = z1.map((v) => Math.max(0, v));
  const p1 = maxPoolRef(a1, null, pool).y;
  const z2 = linearRef(p1, Wl, bl, B, FEAT, CLS);
  const ce = crossEntropyRef(z2, onehot, B, CLS);
  const lg = linearGradRef(p1, Wl, ce.grad, B, FEAT, CLS);
  const dZ1 = maxPoolRef(a1, lg.dx, pool).dx.map((g, i) => (z1[i]! >= 0 ? g : 0));
  const cg = conv2dGradRef(x, Wc, dZ1, conv);
  const grads = [cg.dW, cg.db, lg.dW, lg.db];
  const params = [Wc, bc, Wl, bl].map((p, i) => {
    const q = p.slice();
    new AdamRef(q.length, {
      lr: LR,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      gradScale: 256,
      rule: 'secure',
    }).step(q, grads[i]!);
    return q;
  });
  const gErr = got.grads.map((g, i) => maxAbsDiff(g, grads[i]!));
  const pErr = got.params.map((p, i) => maxAbsDiff(p, params[i]!));
  console.log(
    `shamir: gradient errors ${gErr.map((v) => v.toExponential(2)).join(', ')}; ` +
      `parameter errors after one Adam step ${pErr.map((v) => v.toExponential(2)).join(', ')}`,
  );
  // softmax's ≤ 1e-3 enters the gradient divided by B, then through ≤ 2 layers of |W| ≤ 0.5 sums
  for (const v of gErr) assert.ok(v <= 1e-3 / B + 10 * ULP, `gradient ${v}`);
  // Adam's first step is ≈ lr·g/√(g² + ε̃²): a gradient error δ moves it by up to lr·δ/ε̃
  for (const v of pErr) assert.ok(v <= 1e-3, `parameter ${v}`);
});
