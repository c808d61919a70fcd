import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/runtime/builtin-jobs.js';
import { runSpecInMemory } from '../../src/runtime/train-job.js';
import { readCsv } from '../../src/data/csv.js';
import { dataPath } from '../data/paths.js';
import { exampleRevealed, flat, maxParamError, reference, type Revealed } from './accept-helpers.js';

interface Result {
  metrics: { testAccuracy: number; testCorrect: number; lossPerEpoch: number[] };
  model: Revealed;
}

/** Float64 oracle: Linear(64,32)-ReLU-Linear(32,10), softmax cross-entropy, SGD, batches in order. */
function plainDigits(
  x: Float64Array,
  labels: Float64Array,
  n: number,
  init: Record<string, unknown>,
  epochs: number,
): {
  params: Record<string, Float64Array>;
  lossPerEpoch: number[];
  forward: (i: number, xs?: Float64Array) => { h: Float64Array; p: Float64Array; loss: number };
} {
  const W1 = Float64Array.from(flat(init['0.weight'])); // [32, 64]
  const b1 = Float64Array.from(flat(init['0.bias']));
  const W2 = Float64Array.from(flat(init['2.weight'])); // [10, 32]
  const b2 = Float64Array.from(flat(init['2.bias']));
  const H = 32;
  const C = 10;
  const D = 64;
  const forward = (i: number, xs = x): { h: Float64Array; p: Float64Array; loss: number } => {
    const h = new Float64Array(H);
    for (let a = 0; a < H; a++) {
      let s = b1[a]!;
      for (let d = 0; d < D; d++) s += W1[a * D + d]! * xs[i * D + d]!;
      h[a] = Math.max(0, s);
    }
    const z = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      let s = b2[c]!;
      for (let a = 0; a < H; a++) s += W2[c * H + a]! * h[a]!;
      z[c] = s;
    }
    const m = Math.max(...z);
    const ez = z.map((v) => Math.exp(v - m));
    const sum = ez.reduce((s, v) => s + v, 0);
    const p = ez.map((v) => v / sum);
    return { h, p, loss: -Math.log(p[labels[i]!]!) };
  };
  const lossPerEpoch: number[] = [];
  const B = 32;
  for (let ep = 0; ep < epochs; ep++) {
    for (let s = 0; s < n; s += B) {
      const gW1 = new Float64Array(W1.length);
      const gb1 = new Float64Array(H);
      const gW2 = new Float64Array(W2.length);
      const gb2 = new Float64Array(C);
      for (let i = s; i < s + B; i++) {
        const { h, p } = forward(i);
        const dz = p.map((v, c) => (v - (c === labels[i] ? 1 : 0)) / B);
        for (let c = 0; c < C; c++) {
          gb2[c]! += dz[c]!;
          for (let a = 0; a < H; a++) gW2[c * H + a]! += dz[c]! * h[a]!;
        }
        for (let a = 0; a < H; a++) {
          if (h[a]! <= 0) continue;
          let dh = 0;
          for (let c = 0; c < C; c++) dh += dz[c]! * W2[c * H + a]!;
          gb1[a]! += dh;
          for (let d = 0; d < D; d++) gW1[a * D + d]! += dh * x[i * D + d]!;
        }
      }
      for (const [p, g] of [
        [W1, gW1],
        [b1, gb1],
        [W2, gW2],
        [b2, gb2],
      ] as const)
        for (let k = 0; k < p.length; k++) p[k]! -= 0.1 * g[k]!;
    }
    let L = 0;
    for (let i = 0; i < n; i++) L += forward(i).loss;
    lossPerEpoch.push(L / n);
  }
  return { params: { '0.weight': W1, '0.bias': b1, '2.weight': W2, '2.bias': b2 }, lossPerEpoch, forward };
}

async function digits(file: string): Promise<{ x: Float64Array; y: Float64Array; n: number }> {
  const t = await readCsv(dataPath(file), { columns: 65 });
  const x = new Float64Array(t.rows * 64);
  const y = new Float64Array(t.rows);
  for (let i = 0; i < t.rows; i++) {
    for (let d = 0; d < 64; d++) x[i * 64 + d] = t.data[i * 65 + d]! / 16;
    y[i] = t.data[i * 65 + 64]!;
  }
  return { x, y, n: t.rows };
}

// The digits 64-32-10 MLP (examples/digits-mlp.yaml: one data owner, two compute parties, pixels/16,
// torch seed-0 init from the reference, softmax cross-entropy, SGD lr 0.1, batch 32) over rep3 in
// memory. The full 50 epochs take ~10 minutes here (2250 steps, each with a row softmax), so the
// default test trains 2 epochs against a float64 oracle of the same algorithm; the full run against
// data/reference/digits_mlp.json runs with SHAREHOLD_LONG_TESTS=1 (results in docs/ml.md).
// Measured (2 epochs, three runs): max |p − p_float64| 8.4e-4, 1.5e-2, 1.5e-2, loss per epoch
// within 3.9e-5, 1.4e-3, 1.4e-3 of float64 (and of PyTorch): the steep start of training amplifies
// the row softmax's ≤ 1e-3 error in some runs, hence the 3e-2 tolerance; test accuracy equal.
void test('rep3: digits MLP 64-32-10, 2 epochs, matches a float64 run of the same training', async () => {
  const ref = reference('digits_mlp');
  const base = exampleRevealed('digits-mlp');
  const spec = { ...base, training: { ...base.training!, epochs: 2 } };
  const t0 = Date.now();
  const r = (await runSpecInMemory(spec)).results[0] as unknown as Result;
  const secs = (Date.now() - t0) / 1000;

  const train = await digits('splits/digits/train.csv');
  const test = await digits('splits/digits/test.csv');
  const plain = plainDigits(train.x, train.y, train.n, ref.initial_parameters, 2);
  let correct = 0;
  for (let i = 0; i < test.n; i++) {
    const p = plain.forward(i, test.x).p;
    if (p.indexOf(Math.max(...p)) === test.y[i]) correct++;
  }
  const plainAcc = correct / test.n;
  const pErr = maxParamError(
    r.model,
    Object.fromEntries(Object.entries(plain.params).map(([k, v]) => [k, [...v]])),
  );
  const lErr = Math.max(...r.metrics.lossPerEpoch.map((l, e) => Math.abs(l - plain.lossPerEpoch[e]!)));
  // the float32 PyTorch reference's whole-set loss after epochs 1 and 2 (same algorithm)
  const refErr = Math.max(
    ...r.metrics.lossPerEpoch.map((l, e) => Math.abs(l - ref.loss_history.values[e + 1]!)),
  );
  console.log(
    `digits 2 epochs: test accuracy ${r.metrics.testAccuracy.toFixed(4)} (float64 ${plainAcc.toFixed(4)}); max |p − p_float64| ${pErr.toExponential(2)}; loss per epoch ${r.metrics.lossPerEpoch.map((l) => l.toFixed(4)).join(', ')} (float64 ${plain.lossPerEpoch.map((l) => l.toFixed(4)).join(', ')}; max diff ${lErr.toExponential(2)}, vs PyTorch ${refErr.toExponential(2)}); ${secs.toFixed(1)} s`,
  );
  assert.ok(pErr <= 3e-2, `parameter error ${pErr}`);
  assert.ok(
    Math.abs(r.metrics.testAccuracy - plainAcc) <= 0.02,
    `accuracy ${r.metrics.testAccuracy} vs ${plainAcc}`,
  );
  assert.ok(lErr <= 5e-3, `loss error ${lErr}`);
  assert.ok(refErr <= 5e-3, `loss vs PyTorch ${refErr}`);
});

void test(
  'rep3: digits MLP 64-32-10, full 50 epochs, within 2 points of the reference test accuracy',
  { skip: process.env.SHAREHOLD_LONG_TESTS !== '1' && 'about 10 minutes; set SHAREHOLD_LONG_TESTS=1' },
  async () => {
    const ref = reference('digits_mlp');
    const r = (await runSpecInMemory(exampleRevealed('digits-mlp'))).results[0] as unknown as Result;
    const err = maxParamError(r.model, ref.parameters);
    console.log(
      `digits 50 epochs: test accuracy ${r.metrics.testAccuracy.toFixed(4)} (${r.metrics.testCorrect}/357), reference ${ref.metrics.test_accuracy.toFixed(4)}; final loss ${r.metrics.lossPerEpoch[49]!.toFixed(4)} (reference ${ref.loss_history.values[50]!.toFixed(4)}); max |p − p_ref| ${err.toExponential(2)}`,
    );
    assert.ok(Math.abs(r.metrics.testAccuracy - ref.metrics.test_accuracy) <= 0.02);
    assert.ok(err <= 1e-1, `parameter error ${err}`); // measured 6.0e-2 over 2410 parameters (TLS run)
  },
);
