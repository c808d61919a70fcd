import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretTensor } from '../../src/tensor/tensor.js';
import { logreg, mlp } from '../../src/ml/model.js';
import { Rep3Session } from '../../src/protocols/rep3/session.js';
import { runAll, type EngineFactory } from '../protocols/conformance.js';

const rep3: EngineFactory = { name: 'rep3', n: 3, create: (ch) => Rep3Session.create(ch, { f: 16 }) };

/** Deterministic test values in [−a, a]. */
const vals = (n: number, a: number, k: number): Float64Array =>
  Float64Array.from({ length: n }, (_, i) => a * Math.sin(1.7 * i + 0.3 * k + 0.5));
const sig = (z: number): number => 1 / (1 + Math.exp(-z));

const N = 12;
const D = 4;
const X = vals(N * D, 2, 1);
const W = vals(D, 1, 2);
const B0 = 0.1;
const Y = Float64Array.from({ length: N }, (_, i) => {
  let z = B0;
  for (let j = 0; j < D; j++) z += X[i * D + j]! * W[j]!;
  return z + 0.3 * Math.cos(5 * i) >= 0 ? 1 : 0; // the planted logit plus a perturbation
});

function logits(w: ArrayLike<number>, b: number): Float64Array {
  return Float64Array.from({ length: N }, (_, i) => {
    let z = b;
    for (let j = 0; j < D; j++) z += X[i * D + j]! * w[j]!;
    return z;
  });
}

/** float64 logistic regression, batches in order, PyTorch SGD (momentum: v = μv + g). */
function plainFit(epochs: number, batch: number, lr: number, momentum: number): Float64Array {
  const p = new Float64Array(D + 1);
  const v = new Float64Array(D + 1);
  let first = true;
  for (let ep = 0; ep < epochs; ep++)
    for (let s = 0; s < N; s += batch) {
      const g = new Float64Array(D + 1);
      const e = Math.min(N, s + batch);
      for (let i = s; i < e; i++) {
        let z = p[D]!;
        for (let j = 0; j < D; j++) z += X[i * D + j]! * p[j]!;
        const r = (sig(z) - Y[i]!) / (e - s);
        for (let j = 0; j < D; j++) g[j]! += r * X[i * D + j]!;
        g[D]! += r;
      }
      for (let j = 0; j <= D; j++) {
        v[j] = momentum > 0 && !first ? momentum * v[j]! + g[j]! : g[j]!;
        p[j]! -= lr * v[j]!;
      }
      first = false;
    }
  return p;
}

// Measured: predict 9.2e-5, loss equal to 5 decimals, counts equal; mlp softmax 1.8e-4, CE 2e-5;
// fit: sgd 4.2e-5, momentum 2.6e-4 from float64.
void test('Model: logreg predict / loss / evaluate against float64 (rep3)', async () => {
  const z = logits(W, B0);
  const out = await runAll(rep3, async (e, me) => {
    const model = logreg(e, {
      inFeatures: D,
      init: { parameters: { '0.weight': [[...W]], '0.bias': [B0] } },
    });
    const x = await SecretTensor.fromOwner(e, 0, me === 0 ? X : null, [N, D]);
    const y = await SecretTensor.fromOwner(e, 1, me === 1 ? Y : null, [N, 1]);
    const p = await (await model.predict(x)).reveal();
    const loss = await model.loss(x, y);
    const ev = await model.evaluate(x, y);
    return { p: p!, loss, ev };
  });
  const r = out[0]!;
  for (const o of out) assert.deepEqual(o.ev, r.ev, 'every party gets the same count');
  const pErr = Math.max(...Array.from(r.p, (v, i) => Math.abs(v - sig(z[i]!))));
  const bce =
    z.reduce((s, zi, i) => s + Math.log1p(Math.exp(-Math.abs(zi))) + Math.max(zi, 0) - Y[i]! * zi, 0) / N;
  const correct = z.filter((zi, i) => (zi >= 0 ? 1 : 0) === Y[i]).length;
  assert.ok(Math.min(...z.map(Math.abs)) > 1e-2, 'no row on the decision boundary');
  console.log(
    `logreg: max |σ − σ_float64| ${pErr.toExponential(2)}; loss ${r.loss.toFixed(5)} vs ${bce.toFixed(5)}; ${r.ev.correct}/${N} correct (float64 ${correct})`,
  );
  assert.ok(pErr <= 1e-3, `predict error ${pErr}`); // exact sigmoid ≤ 5e-4 + the logit's ulps
  assert.ok(Math.abs(r.loss - bce) <= 2e-3, `loss ${r.loss} vs ${bce}`); // the modules' BCE loss bound
  assert.equal(r.ev.correct, correct);
  assert.equal(r.ev.total, N);
});

void test('Model: mlp softmax predict, cross-entropy loss and argmax evaluation against float64 (rep3)', async () => {
  const W1 = vals(3 * D, 0.8, 3); // [3, 4]
  const b1 = vals(3, 0.2, 4);
  const W2 = vals(2 * 3, 1.5, 5); // [2, 3]
  const b2 = vals(2, 0.1, 6);
  const Z = Array.from({ length: N }, (_, i) => {
    const h = [0, 1, 2].map((a) => {
      let s = b1[a]!;
      for (let j = 0; j < D; j++) s += W1[a * D + j]! * X[i * D + j]!;
      return Math.max(0, s);
    });
    return [0, 1].map((c) => b2[c]! + h.reduce((s, hv, a) => s + W2[c * 3 + a]! * hv, 0));
  });
  const onehot = Float64Array.from({ length: N * 2 }, (_, k) => (Y[k >> 1] === (k & 1) ? 1 : 0));
  const out = await runAll(rep3, async (e, me) => {
    const model = mlp(e, {
      inFeatures: D,
      layers: [3, 2],
      activation: 'relu',
      output: 'softmax',
      init: {
        parameters: { '0.weight': [...W1], '0.bias': [...b1], '2.weight': [...W2], '2.bias': [...b2] },
      },
    });
    const x = await SecretTensor.fromOwner(e, 0, me === 0 ? X : null, [N, D]);
    const t = await SecretTensor.fromOwner(e, 2, me === 2 ? onehot : null, [N, 2]);
    const y = await SecretTensor.fromOwner(e, 2, me === 2 ? Y : null, [N, 1]);
    const p = await (await model.predict(x)).reveal();
    return { p: p!, loss: await model.loss(x, t), ev: await model.evaluate(x, y) };
  });
  const r = out[0]!;
  let pErr = 0;
  let ce = 0;
  let correct = 0;
  Z.forEach((z, i) => {
    const m = Math.max(...z);
    const s = z.reduce((a, v) => a + Math.exp(v - m), 0);
    z.forEach((v, c) => (pErr = Math.max(pErr, Math.abs(r.p[i * 2 + c]! - Math.exp(v - m) / s))));
    ce -= z[Y[i]!]! - m - Math.log(s);
    if ((z[1]! > z[0]! ? 1 : 0) === Y[i]) correct++;
  });
  ce /= N;
  const margin = Math.min(...Z.map((z) => Math.abs(z[1]! - z[0]!)));
  assert.ok(margin > 1e-2, 'no row with tied logits');
  console.log(
    `mlp: max |softmax − float64| ${pErr.toExponential(2)}; CE ${r.loss.toFixed(5)} vs ${ce.toFixed(5)}; ${r.ev.correct}/${N} correct (float64 ${correct})`,
  );
  assert.ok(pErr <= 2e-3, `softmax error ${pErr}`); // softmax ≤ 1e-3 + the logits' ulps
  assert.ok(Math.abs(r.loss - ce) <= 2e-3, `loss ${r.loss} vs ${ce}`);
  assert.equal(r.ev.correct, correct);
});

void test('Model.fit: plain SGD (lr folded into lr·[x, 1]) and momentum match float64 logistic regression', async () => {
  for (const momentum of [0, 0.9]) {
    const want = plainFit(3, 5, 0.2, momentum); // batches of 5, 5, 2 (the last one partial)
    const out = await runAll(rep3, async (e, me) => {
      const model = logreg(e, { inFeatures: D });
      const x = await SecretTensor.fromOwner(e, 0, me === 0 ? X : null, [N, D]);
      const y = await SecretTensor.fromOwner(e, 1, me === 1 ? Y : null, [N, 1]);
      await model.fit(x, y, {
        epochs: 3,
        batchSize: 5,
        lr: 0.2,
        optimizer: momentum > 0 ? 'momentum' : 'sgd',
        momentum,
      });
      const p = await model.revealParameters([0]);
      return p && [...p['0.weight']!.values, ...p['0.bias']!.values];
    });
    const got = out[0]!;
    assert.equal(out[1], null, 'party 1 is not a recipient');
    const err = Math.max(...got.map((v, j) => Math.abs(v - want[j]!)));
    console.log(`fit ${momentum > 0 ? 'momentum 0.9' : 'sgd'}: max |w − w_float64| ${err.toExponential(2)}`);
    assert.ok(err <= 2e-3, `parameter error ${err}`);
  }
});
