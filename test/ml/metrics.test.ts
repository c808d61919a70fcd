import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretTensor } from '../../src/tensor/tensor.js';
import { Rep3Session } from '../../src/protocols/rep3/session.js';
import { Rep4Session } from '../../src/protocols/rep4/session.js';
import { binnedMetrics, defaultThresholds, secureBinaryMetrics } from '../../src/ml/metrics.js';
import { binaryMetrics, rocAuc } from '../../src/casestudy/plain.js';
import { Prg, deriveSeed } from '../../src/math/prg.js';
import { runAll, type EngineFactory } from '../protocols/conformance.js';

const factories: EngineFactory[] = [
  { name: 'rep3', n: 3, create: (ch) => Rep3Session.create(ch, { f: 16 }) },
  { name: 'rep4', n: 4, create: (ch) => Rep4Session.create(ch, { f: 16 }) },
];

/** Scores of an imperfect classifier on an imbalanced set, on a 2^-8 grid (exact in fixed point). */
function data(n: number): { s: Float64Array; y: Float64Array } {
  const w = new Prg(deriveSeed(new Uint8Array(16), 'metrics-test')).words(3 * n);
  const s = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = w[3 * i]! / 2 ** 32 < 0.05 ? 1 : 0;
    const u1 = (w[3 * i + 1]! + 1) / (2 ** 32 + 1);
    const u2 = w[3 * i + 2]! / 2 ** 32;
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    s[i] = Math.round((y[i]! ? 1.2 : -3) * 256 + z * 1.6 * 256) / 256;
  }
  return { s, y };
}

for (const fac of factories) {
  void test(`secure metrics (${fac.name}): counts equal the plaintext binned oracle; AUC within 0.005 of the exact AUC`, async () => {
    const n = 4000;
    const { s, y } = data(n);
    const th = defaultThresholds(63);
    const out = await runAll(fac, async (e, me) => {
      const ss = await SecretTensor.fromOwner(e, 0, me === 0 ? s : null, [n]);
      const ys = await SecretTensor.fromOwner(e, 1, me === 1 ? y : null, [n]);
      return secureBinaryMetrics(e, ss.share, ys.share, { thresholds: th });
    });
    // the oracle sees the thresholds as encoded at f = 16
    const enc = th.map((t) => Math.round(t * 65536) / 65536);
    const want = binnedMetrics(s, y, { thresholds: enc, decision: 0 });
    for (const got of out) {
      assert.equal(got.positives, want.positives);
      assert.equal(got.total, n);
      for (const k of ['precision', 'recall', 'f1', 'accuracy', 'auc'] as const)
        assert.ok(Math.abs(got[k] - want[k]) < 1e-12, `${k}: ${got[k]} vs ${want[k]}`);
      assert.equal(got.roc.length, th.length);
    }
    // precision/recall/F1/accuracy at logit 0 from the independent plaintext implementation
    // (scores lie on a 2^-8 grid, so "> −1e-9" is "≥ 0")
    const plain = binaryMetrics(s, y, -1e-9);
    for (const k of ['precision', 'recall', 'f1', 'accuracy'] as const)
      assert.ok(Math.abs(out[0]![k] - plain[k]) < 1e-12, `${k} vs plaintext`);
    const exact = rocAuc(s, y);
    console.log(
      `${fac.name}: binned AUC ${out[0]!.auc.toFixed(4)}, exact ${exact.toFixed(4)}, F1 ${out[0]!.f1.toFixed(3)}`,
    );
    assert.ok(Math.abs(out[0]!.auc - exact) < 0.005);
    assert.ok(
      out[0]!.positives > 100 && out[0]!.f1 > 0.3 && out[0]!.f1 < 0.99,
      'a realistic, imperfect classifier',
    );
  });
}
