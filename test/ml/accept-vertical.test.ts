import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/runtime/builtin-jobs.js';
import { runSpecInMemory } from '../../src/runtime/train-job.js';
import { exampleRevealed, maxModelDiff, maxParamError, reference, type Revealed } from './accept-helpers.js';

interface Result {
  metrics: { testAccuracy: number; testCorrect: number; lossPerEpoch: number[] };
  model: Revealed;
}

// Logistic regression from the vertical split (partyA: 15 features; partyB: 15 features + label; a
// compute-only helper) and from the horizontal 3-org split: both jobs standardize securely, train
// over rep3 in memory and reveal the model. The joint training table is the same (train.csv), so the
// models must agree up to the fixed-point noise of two independent runs (stochastic truncation).
// Measured: max |w_vertical − w_horizontal| ≈ 1–3e-4; each within ≈ 2e-4 of the numpy reference.
const SAME_MODEL_TOL = 2e-3;
const REF_TOL = 2e-3;

void test('rep3: the vertical split gives the same logistic-regression model as the horizontal split', async () => {
  const ref = reference('breast_cancer_logreg');
  const t0 = Date.now();
  const h = (await runSpecInMemory(exampleRevealed('breast-cancer-logreg'))).results[0] as unknown as Result;
  const v = (await runSpecInMemory(exampleRevealed('breast-cancer-vertical')))
    .results[0] as unknown as Result;
  const diff = maxModelDiff(h.model, v.model);
  const eh = maxParamError(h.model, ref.parameters);
  const ev = maxParamError(v.model, ref.parameters);
  const lossDiff = Math.max(
    ...h.metrics.lossPerEpoch.map((l, e) => Math.abs(l - v.metrics.lossPerEpoch[e]!)),
  );
  console.log(
    `logreg horizontal acc ${h.metrics.testAccuracy.toFixed(4)}, vertical acc ${v.metrics.testAccuracy.toFixed(4)} (reference ${ref.metrics.test_accuracy.toFixed(4)}); max |w_v − w_h| ${diff.toExponential(2)}; vs reference: horizontal ${eh.toExponential(2)}, vertical ${ev.toExponential(2)}; max loss difference per epoch ${lossDiff.toExponential(2)}; ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  assert.ok(diff <= SAME_MODEL_TOL, `models differ by ${diff}`);
  assert.ok(eh <= REF_TOL && ev <= REF_TOL, `reference errors ${eh}, ${ev}`);
  for (const r of [h, v]) assert.ok(Math.abs(r.metrics.testAccuracy - ref.metrics.test_accuracy) <= 0.01);
  assert.ok(lossDiff <= 1e-3, `loss per epoch differs by ${lossDiff}`);
  // the secure loss after the last epoch against the reference's whole-training-set loss
  assert.ok(Math.abs(h.metrics.lossPerEpoch[9]! - ref.loss_history.values[10]!) <= 1e-3);
});
