/**
 * `sharehold bench fraud` on a small set: four rep4 processes over TLS run the case study's training
 * steps (16-16-8-1 ReLU MLP, the default `hidden`, weighted BCE with logits, exact sigmoid, Adam). Checks:
 * - the parameters after the steps match a float64 run of the same steps with the secure Adam's rule
 *   within lr·(1 + 0.2·steps): Adam moves a parameter by ≈ lr per step at most and divides by √v̂, so
 *   a gradient within the fixed-point noise of 0 can move differently by up to ≈ lr in the first
 *   steps, and fixed-point noise near the ε̃ floor adds a fraction of lr per step (measured 0.75–2.7e-3
 *   after 4–6 steps, 9e-3 after 40);
 * - the preprocessing each part of a step uses, counted in the warm-up step: the forward products one
 *   truncation triple per output (B·(16 + 8 + 1)), the ReLU backward products none (exact ring
 *   products with the 0/1 mask), the ReLU comparisons one daBit per element (B·(16 + 8));
 * - the timing fields are filled in and consistent (epoch = steps per epoch × seconds per step + shuffle).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import '../../src/runtime/builtin-jobs.js';
import { runFraudBench } from '../../src/cli/bench-fraud.js';

void test('bench fraud: 4 processes over TLS, parameters vs float64 same-rule Adam, material per step', async () => {
  const B = 128; // ≥ 1024 / 8: the daBit pool generates at least 1024 at a time
  const r = await runFraudBench({
    rows: 2000,
    batch: B,
    steps: 6,
    epochs: 1,
    chunk: 3,
    sigmoid: 'exact',
    optimizer: 'adam',
    lr: 0.003,
    seed: 1,
  });
  assert.equal(r.timedSteps, 5);
  assert.equal(r.stepsPerEpoch, Math.ceil(2000 / B));
  assert.notEqual(r.maxParamDiff, null);
  assert.ok(r.maxParamDiff! <= r.paramTolerance, `max |Δ| ${r.maxParamDiff} > ${r.paramTolerance}`);
  assert.ok(Math.abs(r.paramTolerance - 0.003 * (1 + 0.2 * 6)) < 1e-12);
  const bd = r.breakdown;
  assert.equal(bd['matmul forward']!.triples, B * (16 + 8 + 1));
  assert.equal(bd['relu backward products']!.triples, 0);
  assert.equal(bd['relu comparisons']!.daBits, B * (16 + 8));
  assert.equal(bd['relu backward products']!.rounds, 2); // one product per ReLU, two ReLUs
  assert.ok(r.secondsPerStep > 0 && r.onlineRoundsPerStep > 0 && r.mbSentPerPartyPerStep > 0);
  assert.ok(
    Math.abs(r.secondsPerEpoch - (r.stepsPerEpoch * r.secondsPerStep + r.shuffleSecondsPerEpoch)) < 1e-9,
  );
  console.log(
    `bench fraud 2000 rows, batch ${B}: ${r.secondsPerStep.toFixed(3)} s/step, ${r.onlineRoundsPerStep} rounds, ` +
      `${r.triplesPerStep} triples, ${r.daBitsPerStep} daBits per step; max |Δ| ${r.maxParamDiff!.toExponential(2)}`,
  );
});
