import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretTensor } from '../../src/tensor/tensor.js';
import { WeightedBCEWithLogitsLoss } from '../../src/ml/modules/index.js';
import { Rep3Session } from '../../src/protocols/rep3/session.js';
import { isShareholdError } from '../../src/errors.js';
import { runAll, type EngineFactory } from '../protocols/conformance.js';

const rep3: EngineFactory = { name: 'rep3', n: 3, create: (ch) => Rep3Session.create(ch, { f: 16 }) };

void test('weighted BCE with logits: gradient and loss vs float64 PyTorch pos_weight semantics', async () => {
  const B = 40;
  const pw = 12;
  const z = Float64Array.from({ length: B }, (_, i) => ((i * 37) % 23) / 2.5 - 4.6);
  const y = Float64Array.from({ length: B }, (_, i) => (i % 7 === 0 ? 1 : 0));
  const t = new Float64Array(2 * B);
  for (let i = 0; i < B; i++) {
    t[2 * i] = y[i]!;
    t[2 * i + 1] = 1 + (pw - 1) * y[i]!; // the owner's local choice of weights
  }
  // PyTorch BCEWithLogitsLoss(pos_weight=pw), reduction mean: l = −[pw·y·log σ + (1−y)·log(1−σ)]
  const sig = (v: number): number => 1 / (1 + Math.exp(-v));
  let want = 0;
  const wantGrad = new Float64Array(B);
  for (let i = 0; i < B; i++) {
    const s = sig(z[i]!);
    want += -(pw * y[i]! * Math.log(s) + (1 - y[i]!) * Math.log(1 - s));
    wantGrad[i] = (s * (pw * y[i]! + 1 - y[i]!) - pw * y[i]!) / B;
  }
  want /= B;
  const [got] = await runAll(rep3, async (e, me) => {
    const zs = await SecretTensor.fromOwner(e, 0, me === 0 ? z : null, [B, 1]);
    const ts = await SecretTensor.fromOwner(e, 1, me === 1 ? t : null, [B, 2]);
    const loss = new WeightedBCEWithLogitsLoss();
    const [g, l] = await Promise.all([loss.grad(zs, ts), loss.loss(zs, ts)]);
    await assert.rejects(loss.grad(zs, zs), (err) => isShareholdError(err, 'shape-mismatch'));
    return { g: await g.reveal(), l: (await l.reveal())![0]! };
  });
  let maxErr = 0;
  for (let i = 0; i < B; i++) maxErr = Math.max(maxErr, Math.abs(got!.g![i]! - wantGrad[i]!));
  console.log(
    `weighted BCE: grad error ${maxErr.toExponential(2)}, loss ${got!.l.toFixed(5)} vs ${want.toFixed(5)}`,
  );
  // sigmoid ≤ 5e-4 times w/B (≤ 0.3), plus ~2 ulp
  assert.ok(maxErr <= 2e-4, `gradient error ${maxErr}`);
  assert.ok(Math.abs(got!.l - want) <= 5e-3, `loss ${got!.l} vs ${want}`);
});
