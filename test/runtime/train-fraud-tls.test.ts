/**
 * The fraud training job as `sharehold run --local` runs it: four separate processes over TLS 1.3
 * (the three banks and the compute-only operator, rep4), with class weights, a shuffled order, a
 * validation set and a test set. Message timing differs between processes, so this catches any
 * operation issued in a timing-dependent order (a stall or a mismatch). Every party must report the
 * same aggregates, and they must agree with the in-memory run of the same spec (checked against
 * float64 in train-fraud.test.ts) within the fixed-point noise between two runs: losses 2e-3, AUC
 * 0.01.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCaseStudyFiles } from '../../src/casestudy/files.js';
import { BANKS } from '../../src/casestudy/fraud-data.js';
import { launchLocal } from '../../src/runtime/launcher.js';
import { runSpecInMemory, type ValidationEpoch } from '../../src/runtime/train-job.js';
import { loadSpec } from '../../src/spec/validate.js';

interface Result {
  member: string;
  metrics: {
    lossPerEpoch: number[];
    validation: ValidationEpoch[];
    testAccuracy: number;
    test: { auc: number; f1: number; accuracy: number; rows: number; positives: number };
  };
}

void test('ml.train fraud rep4 over TLS between 4 processes: the same aggregates at every party, as in memory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sharehold-train-fraud-tls-'));
  try {
    await generateCaseStudyFiles(join(dir, 'fraud'), { rows: 1200, validationFraction: 0.5 });
    const entries = (file: string, extra = ''): string =>
      BANKS.map((b) => `    - { member: ${b}, file: fraud/${b}/${file}${extra} }`).join('\n');
    const file = join(dir, 'fraud.yaml');
    await writeFile(
      file,
      [
        'version: 1',
        'name: fraud-tls',
        'task: train',
        `members: [${BANKS.join(', ')}, operator]`,
        'scheme: { name: rep4 }',
        'data:',
        '  partition: horizontal',
        '  label: fraud',
        '  schema: { columns: 17, integer: [fraud] }',
        '  train:',
        entries('transactions.csv', ', classWeight: balanced'),
        '  validation:',
        entries('validation.csv'),
        '  test:',
        entries('holdout.csv'),
        'preprocessing: { standardize: true }',
        'model: { type: mlp, layers: [4, 1], activation: relu, output: sigmoid, init: { seed: 2 } }',
        'training: { epochs: 2, batchSize: 200, lr: 0.02, optimizer: adam, loss: bce, shuffle: true, shuffleSeed: 3 }',
        '',
      ].join('\n'),
    );
    const t0 = performance.now();
    const { results } = await launchLocal({
      n: 4,
      job: 'ml.train',
      params: { spec: file, trainAccuracy: false },
      timeoutMs: 50_000,
    });
    const seconds = (performance.now() - t0) / 1000;
    const rs = results as unknown as Result[];
    assert.deepEqual(
      rs.map((r) => r.member),
      [...BANKS, 'operator'],
    );
    for (const r of rs) assert.deepEqual(r.metrics, rs[0]!.metrics);
    const m = rs[0]!.metrics;
    const mem = (await runSpecInMemory(loadSpec(file), { trainAccuracy: false }))
      .results[0] as unknown as Result;
    const msg = JSON.stringify({ seconds, tls: m, memory: mem.metrics }, (k, v: unknown) =>
      k === 'roc' ? undefined : v,
    );
    assert.equal(m.validation.length, 2, msg);
    for (let ep = 0; ep < 2; ep++) {
      const a = m.validation[ep]!;
      const b = mem.metrics.validation[ep]!;
      assert.equal(a.epoch, ep);
      assert.equal(a.rows, b.rows);
      assert.ok(Math.abs(a.loss - b.loss) < 2e-3, msg);
      assert.ok(Math.abs(a.auc! - b.auc!) < 0.01, msg);
      assert.ok(Math.abs(m.lossPerEpoch[ep]! - mem.metrics.lossPerEpoch[ep]!) < 2e-3, msg);
    }
    assert.equal(m.test.rows, mem.metrics.test.rows);
    assert.equal(m.test.positives, mem.metrics.test.positives);
    assert.ok(Math.abs(m.test.auc - mem.metrics.test.auc) < 0.01, msg);
    assert.equal(m.testAccuracy, m.test.accuracy);
    console.log(
      `TLS ${seconds.toFixed(1)} s: validation auc ${m.validation.map((v) => v.auc!.toFixed(4)).join(', ')} ` +
        `(memory ${mem.metrics.validation.map((v) => v.auc!.toFixed(4)).join(', ')}), test auc ${m.test.auc.toFixed(4)}`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
