/**
 * The fraud training job as `sharehold run --local` runs it: four separate processes over TLS 1.3
 * (the three banks and the compute-only operator, rep4), with class weights, a shuffled order, a
 * validation set and a test set. Message timing differs between processes, so this catches any
 * operation issued in a timing-dependent order (a stall or a mismatch). Every party must report the
 * same aggregates, and they must agree with a float64 run of the same rows, weights, order, initial
 * parameters and Adam variant (train-fraud-oracle.ts): losses within 5e-3, AUC within 0.01.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCaseStudyFiles } from '../../src/casestudy/files.js';
import { BANKS, NF } from '../../src/casestudy/fraud-data.js';
import { initMlp } from '../../src/casestudy/plain.js';
import { launchLocal } from '../../src/runtime/launcher.js';
import type { ValidationEpoch } from '../../src/runtime/train-job.js';
import { fraudOracle, initJson } from './train-fraud-oracle.js';

interface Result {
  member: string;
  metrics: {
    lossPerEpoch: number[];
    validation: ValidationEpoch[];
    testAccuracy: number;
    test: { auc: number; f1: number; accuracy: number; rows: number; positives: number };
  };
}

void test('ml.train fraud rep4 over TLS between 4 processes: the same aggregates at every party, as in float64', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sharehold-train-fraud-tls-'));
  try {
    const files = await generateCaseStudyFiles(join(dir, 'fraud'), { rows: 900, validationFraction: 0.5 });
    const init = initMlp([NF, 4, 1], new Uint8Array(16).fill(2));
    await writeFile(join(dir, 'init.json'), initJson(init));
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
        'model: { type: mlp, layers: [4, 1], activation: relu, output: sigmoid, init: { file: init.json } }',
        'training: { epochs: 2, batchSize: 300, lr: 0.03, optimizer: adam, loss: bce, shuffle: true, shuffleSeed: 3 }',
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
    const oracle = await fraudOracle(init, files, {
      epochs: 2,
      batchSize: 300,
      lr: 0.03,
      shuffleSeed: 3,
      weights: ['balanced', 'balanced', 'balanced'],
    });
    const msg = JSON.stringify({ seconds, tls: m, oracle }, (k, v: unknown) => (k === 'roc' ? undefined : v));
    assert.equal(m.validation.length, 2, msg);
    for (let ep = 0; ep < 2; ep++) {
      const a = m.validation[ep]!;
      const b = oracle.epochs[ep]!;
      assert.equal(a.epoch, ep);
      assert.equal(a.rows, b.val.total);
      assert.ok(Math.abs(a.loss - b.valLoss) < 5e-3, msg);
      assert.ok(Math.abs(a.auc! - b.val.auc) < 0.01, msg);
      assert.ok(Math.abs(m.lossPerEpoch[ep]! - b.trainLoss) < 5e-3, msg);
    }
    assert.equal(m.test.rows, oracle.test.total);
    assert.equal(m.test.positives, oracle.test.positives);
    assert.ok(Math.abs(m.test.auc - oracle.test.auc) < 0.01, msg);
    assert.equal(m.testAccuracy, m.test.accuracy);
    console.log(
      `TLS ${seconds.toFixed(1)} s: validation auc ${m.validation.map((v) => v.auc!.toFixed(4)).join(', ')} ` +
        `(float64 ${oracle.epochs.map((v) => v.val.auc.toFixed(4)).join(', ')}), test auc ${m.test.auc.toFixed(4)} ` +
        `(${oracle.test.auc.toFixed(4)}), losses ${m.lossPerEpoch.map((l) => l.toFixed(4)).join(', ')} ` +
        `(${oracle.epochs.map((v) => v.trainLoss.toFixed(4)).join(', ')})`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
