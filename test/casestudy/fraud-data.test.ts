import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  DEFAULT_FRAUD_SEED,
  FRAUD_COLUMNS,
  NF,
  bankSizes,
  generateBank,
  generateFraudFiles,
  generatePublic,
} from '../../src/casestudy/fraud-data.js';
import {
  binaryMetrics,
  columnStats,
  featuresAndLabels,
  forwardMlp,
  initMlp,
  rocAuc,
  trainMlp,
} from '../../src/casestudy/plain.js';
import { readCsv } from '../../src/data/csv.js';

const W = NF + 1;

void test('generator: deterministic per seed, bank and part; fraud rate 1–2 % at every bank', () => {
  const a = generateBank(DEFAULT_FRAUD_SEED, 1, 'train', 20_000);
  const b = generateBank(DEFAULT_FRAUD_SEED, 1, 'train', 20_000);
  assert.deepEqual(a.data, b.data);
  const c = generateBank(DEFAULT_FRAUD_SEED, 1, 'test', 20_000);
  assert.notDeepEqual(a.data.subarray(0, 100), c.data.subarray(0, 100));
  for (let bank = 0; bank < 3; bank++) {
    const t = generateBank(DEFAULT_FRAUD_SEED, bank, 'train', 100_000);
    let fraud = 0;
    for (let i = 0; i < t.rows; i++) {
      const y = t.data[i * W + NF]!;
      assert.ok(y === 0 || y === 1);
      fraud += y;
      assert.equal(y === 1, t.pattern[i]! > 0);
      for (let j = 0; j < W; j++) assert.ok(Number.isFinite(t.data[i * W + j]!));
    }
    const rate = fraud / t.rows;
    assert.ok(rate > 0.01 && rate < 0.02, `bank ${bank}: fraud rate ${rate}`);
    // each bank's own pattern dominates its fraud
    const counts = [0, 0, 0, 0, 0, 0];
    for (const p of t.pattern) counts[p]!++;
    const own = counts[bank + 1]!;
    for (let p = 1; p <= 3; p++)
      if (p !== bank + 1) assert.ok(own > 10 * counts[p]!, `bank ${bank} pattern ${p}`);
  }
});

void test('generator: uneven bank sizes that add up; public set has no label column', () => {
  assert.deepEqual(bankSizes(500_000), [225_000, 165_000, 110_000]);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 10_000_000 }), (n) => {
      const s = bankSizes(n);
      return s[0]! + s[1]! + s[2]! === n && s[0]! >= s[1]! && s[1]! >= s[2]!;
    }),
  );
  const p = generatePublic(DEFAULT_FRAUD_SEED, 999);
  assert.equal(p.length, 999 * NF);
});

void test('generator: CSV files round-trip through the strict CSV reader', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fraud-'));
  try {
    const res = await generateFraudFiles(dir, { rows: 3000 });
    assert.deepEqual(res.rows, [1350, 990, 660]);
    const t = await readCsv(res.train[1]!, { columns: FRAUD_COLUMNS, integerColumns: ['fraud'] });
    assert.equal(t.rows, 990);
    const g = generateBank(DEFAULT_FRAUD_SEED, 1, 'train', 990);
    let maxErr = 0;
    for (let k = 0; k < g.data.length; k++) maxErr = Math.max(maxErr, Math.abs(g.data[k]! - t.data[k]!));
    assert.ok(maxErr <= 5e-6, `CSV rounding error ${maxErr}`);
    const again = await generateFraudFiles(join(dir, 'again'), { rows: 3000 });
    assert.equal(await readFile(res.test[2]!, 'utf8'), await readFile(again.test[2]!, 'utf8'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void test('metrics: AUC equals the pairwise definition; precision/recall/F1 by hand', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: -5, max: 5 }), fc.boolean()), { minLength: 2, maxLength: 60 }),
      (pairs) => {
        const s = pairs.map((p) => p[0]);
        const y = pairs.map((p) => (p[1] ? 1 : 0));
        const pos = y.filter((v) => v === 1).length;
        if (pos === 0 || pos === y.length) return Number.isNaN(rocAuc(s, y));
        let wins = 0;
        for (let i = 0; i < s.length; i++)
          for (let j = 0; j < s.length; j++)
            if (y[i] === 1 && y[j] === 0) wins += s[i]! > s[j]! ? 1 : s[i] === s[j] ? 0.5 : 0;
        return Math.abs(rocAuc(s, y) - wins / (pos * (y.length - pos))) < 1e-12;
      },
    ),
  );
  const m = binaryMetrics([0.9, 0.8, 0.2, 0.7, 0.1], [1, 0, 1, 1, 0], 0.5);
  assert.equal(m.precision, 2 / 3);
  assert.equal(m.recall, 2 / 3);
  assert.ok(Math.abs(m.f1 - 2 / 3) < 1e-12);
  assert.equal(m.accuracy, 3 / 5);
});

void test('case study premise: a model on all banks beats each bank alone on the joint test set', () => {
  const sizes = bankSizes(150_000);
  const train = sizes.map((n, b) => generateBank(DEFAULT_FRAUD_SEED, b, 'train', n));
  const test = sizes.map((n, b) => generateBank(DEFAULT_FRAUD_SEED, b, 'test', Math.round(n * 0.2)));
  const concat = (ts: typeof train): { rows: number; data: Float64Array } => {
    const rows = ts.reduce((a, t) => a + t.rows, 0);
    const data = new Float64Array(rows * W);
    // interleave the banks' rows (a public order) so that SGD sees every bank in every epoch
    const next = ts.map(() => 0);
    for (let r = 0, b = 0; r < rows; b = (b + 1) % ts.length) {
      const t = ts[b]!;
      if (next[b]! >= t.rows) continue;
      data.set(t.data.subarray(next[b]! * W, (next[b]! + 1) * W), r * W);
      next[b]!++;
      r++;
    }
    return { rows, data };
  };
  const tst = concat(test);
  const evalModel = (tab: { rows: number; data: Float64Array }): number => {
    const st = columnStats(tab.data, tab.rows, W, NF);
    const { x, y } = featuresAndLabels(tab.data, tab.rows, W, st);
    const m = initMlp([NF, 16, 8, 1], DEFAULT_FRAUD_SEED);
    trainMlp(m, x, y, tab.rows, { epochs: 2, batchSize: 128, lr: 0.003, posWeight: 10 });
    const te = featuresAndLabels(tst.data, tst.rows, W, st);
    return binaryMetrics(forwardMlp(m, te.x, tst.rows), te.y, 0).auc;
  };
  const joint = evalModel(concat(train));
  const alone = train.map((t) => evalModel(t));
  for (const [b, auc] of alone.entries())
    assert.ok(joint > auc + 0.005, `joint AUC ${joint.toFixed(4)} vs bank ${b} alone ${auc.toFixed(4)}`);
});
