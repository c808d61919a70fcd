import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/runtime/builtin-jobs.js';
import { runSpecInMemory } from '../../src/runtime/train-job.js';
import { exampleRevealed, maxParamError, reference, type Revealed } from './accept-helpers.js';

interface Result {
  metrics: { testAccuracy: number; testCorrect: number; lossPerEpoch: number[] };
  model: Revealed;
}

// The 30-16-16-1 MLP (examples/breast-cancer-mlp.yaml: horizontal 3-org split, secure standardization,
// torch seed-0 init from the reference, lr 0.05, batch 35, 20 epochs) over rep3 in memory, against
// data/reference/breast_cancer_mlp.json (PyTorch float32).
// Measured (2 runs): test accuracy 0.9737 (= reference); max |p − p_ref| over the 785 parameters
// 6.9e-4 and 2.2e-3; per-epoch training loss within 5e-5 and 1.2e-4 of the reference's.
const PARAM_TOL = 1e-2;
const LOSS_TOL = 2e-3;

void test('rep3: breast-cancer MLP 30-16-16-1 matches the PyTorch reference (accuracy, parameters, loss per epoch)', async () => {
  const ref = reference('breast_cancer_mlp');
  const t0 = Date.now();
  const { results, rounds } = await runSpecInMemory(exampleRevealed('breast-cancer-mlp'));
  const r = results[0] as unknown as Result;
  for (const o of results as unknown as Result[])
    assert.deepEqual(o.model, r.model, 'every recipient gets the same model');
  const err = maxParamError(r.model, ref.parameters);
  const lossErr = Math.max(
    ...r.metrics.lossPerEpoch.map((l, e) => Math.abs(l - ref.loss_history.values[e + 1]!)),
  );
  console.log(
    `mlp rep3: test accuracy ${r.metrics.testAccuracy.toFixed(4)} (${r.metrics.testCorrect}/114), reference ${ref.metrics.test_accuracy.toFixed(4)}; max |p − p_ref| ${err.toExponential(2)}; max |loss − loss_ref| per epoch ${lossErr.toExponential(2)}; ${rounds} rounds, ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  assert.equal(r.metrics.lossPerEpoch.length, 20);
  assert.ok(
    Math.abs(r.metrics.testAccuracy - ref.metrics.test_accuracy) <= 0.01,
    `accuracy ${r.metrics.testAccuracy}`,
  );
  assert.ok(err <= PARAM_TOL, `max parameter error ${err} > ${PARAM_TOL}`);
  assert.ok(lossErr <= LOSS_TOL, `max loss error ${lossErr} > ${LOSS_TOL}`);
});
