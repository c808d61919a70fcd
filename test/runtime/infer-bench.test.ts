/**
 * The inference benchmark (`sharehold bench --suite inference`) on small batches, three processes
 * over TLS: outputs match the float64 reference, and the online rounds of the 784-128-128-10 MLP are
 * counted exactly — input 1 + 3 matrix products (1 each, truncation fused) + 2 ReLUs + reveal 1, with
 * ReLU = 6 rounds after a sign-hinted Gemm when the range check narrows the comparison (≤ 33 bits: a
 * 5-level carry tree and the fused injection) and 7 on all 64 bits; without sign hints 8 and 9. A batch
 * of ≥ 512 rows runs as two concurrent row blocks: still correct, 17 sequential rounds per block.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import '../../src/runtime/builtin-jobs.js';
import { runInferenceBench } from '../../src/cli/infer-bench.js';

void test('MLP query inference over TLS: correct, 17 online rounds narrowed, 19 on 64 bits (21, 23 without sign hints)', async () => {
  const narrow = await runInferenceBench({ batches: [1, 40], reps: 1 });
  const wide = await runInferenceBench({ batches: [1], reps: 1, narrow: false });
  const plain = await runInferenceBench({ batches: [1], reps: 1, signHints: false });
  // ≥ 512 rows: two row blocks on forked sessions, concurrently (17 sequential rounds each)
  const piped = await runInferenceBench({ batches: [600], reps: 1 });
  for (const l of [...narrow, ...wide, ...plain, ...piped]) {
    assert.ok(l.correct, `batch ${l.batch}: max error ${l.maxError}`);
    assert.ok(l.maxError <= 1e-3, `batch ${l.batch}: max error ${l.maxError}`);
    assert.ok(l.bytesSentPerParty > 0 && l.offlineBytesSentPerParty > 0);
  }
  assert.deepEqual(
    narrow.map((l) => l.rounds),
    [17, 17],
  );
  assert.equal(wide[0]!.rounds, 19);
  assert.equal(plain[0]!.rounds, 21);
  assert.deepEqual(
    narrow.map((l) => l.pipelines),
    [1, 1],
  );
  assert.equal(piped[0]!.pipelines, 2);
  assert.equal(piped[0]!.rounds, 17);
  assert.ok(narrow[0]!.bytesSentPerParty < plain[0]!.bytesSentPerParty, 'the hinted ReLUs send less online');
  const widths = Object.values(narrow[0]!.reluWidths);
  assert.equal(widths.length, 2);
  assert.ok(
    widths.every((w) => w <= 33),
    `widths ${widths}`,
  );
  console.log(
    `batch 1: ${narrow[0]!.latencyMs.toFixed(1)} ms, ${narrow[0]!.rounds} rounds (64-bit: ${wide[0]!.rounds}, no hints: ${plain[0]!.rounds}); ` +
      `batch 40: ${narrow[1]!.samplesPerSecond.toFixed(0)} samples/s; widths ${widths}`,
  );
});
