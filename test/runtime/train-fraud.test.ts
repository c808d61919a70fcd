/**
 * The case study's training job (`ml.train`) on a small generated fraud set: rep4 with the three
 * banks and a compute-only operator, in memory. Per-owner balanced class weights, a public shuffled
 * row order, secure standardization, Adam, a validation set with per-epoch secret metrics and the
 * final test metrics — all against a float64 run of the same model, order and weights
 * (src/casestudy/plain.ts), whose loss is PyTorch's BCEWithLogitsLoss(pos_weight) per owner.
 *
 * Tolerances (fixed point f = 16, exact sigmoid; the oracle runs the engine's Adam variant: ε̃ = 2^-13
 * inside the square root, each gradient element clipped to ±127/256, which the weighted loss reaches):
 * training loss and validation loss within 1e-2 absolute, AUC within 0.01, the predicted-positive and
 * true-positive counts at p = 1/2 within 1 % of the rows / 1 row, precision/recall/F1 from them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCaseStudyFiles } from '../../src/casestudy/files.js';
import { BANKS, NF } from '../../src/casestudy/fraud-data.js';
import { columnStats, featuresAndLabels, forwardMlp, initMlp, trainMlp } from '../../src/casestudy/plain.js';
import { readCsv } from '../../src/data/csv.js';
import { binnedMetrics, type SecureBinaryMetrics } from '../../src/ml/metrics.js';
import { publicPermutation } from '../../src/ml/model.js';
import { ownerClassWeight, runSpecInMemory } from '../../src/runtime/train-job.js';
import { loadSpec } from '../../src/spec/validate.js';

const W = NF + 1;
const ROWS = 3000;
const EPOCHS = 2;
const BATCH = 128;
const LR = 0.01;
const SHUFFLE_SEED = 7;
const HIDDEN = 8;
const ADAM_EPS = 2 ** -13; // the engine's effective ε̃ = max(eps, 2^-5/256)

interface Set {
  x: Float64Array;
  y: Float64Array;
  rows: number;
}

function softplus(z: number): number {
  return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
}

/** PyTorch BCEWithLogitsLoss(pos_weight = pw_o) per owner o, mean over all rows. */
function torchWeightedBce(z: Float64Array, y: Float64Array, pw: Float64Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += pw[i]! * y[i]! * softplus(-z[i]!) + (1 - y[i]!) * softplus(z[i]!);
  return s / y.length;
}

function logLoss(z: Float64Array, y: Float64Array): number {
  return torchWeightedBce(z, y, new Float64Array(y.length).fill(1));
}

void test('ml.train rep4 (3 banks + compute-only operator): class weights, shuffle, validation and test metrics vs float64', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sharehold-train-fraud-'));
  try {
    const files = await generateCaseStudyFiles(join(dir, 'fraud'), { rows: ROWS, validationFraction: 0.2 });
    const init = initMlp([NF, HIDDEN, 1], new Uint8Array(16).fill(3));
    const params = {
      initial_parameters: {
        '0.weight': [...init.w[0]!],
        '0.bias': [...init.b[0]!],
        '2.weight': [...init.w[1]!],
        '2.bias': [...init.b[1]!],
      },
    };
    await writeFile(join(dir, 'init.json'), JSON.stringify(params));
    const entries = (file: string, extra = ''): string =>
      BANKS.map((b) => `    - { member: ${b}, file: fraud/${b}/${file}${extra} }`).join('\n');
    const specFile = join(dir, 'fraud.yaml');
    await writeFile(
      specFile,
      [
        'version: 1',
        'name: fraud-small',
        'task: train',
        `members: [${BANKS.join(', ')}, operator]`,
        'scheme: { name: rep4 }',
        'data:',
        '  partition: horizontal',
        '  label: fraud',
        '  schema: { columns: 17, integer: [fraud] }',
        '  train:',
        // bank-c declares its own number; the others balance their own rows
        `    - { member: ${BANKS[0]}, file: fraud/${BANKS[0]}/transactions.csv }`,
        `    - { member: ${BANKS[1]}, file: fraud/${BANKS[1]}/transactions.csv }`,
        `    - { member: ${BANKS[2]}, file: fraud/${BANKS[2]}/transactions.csv, classWeight: 20 }`,
        '  validation:',
        entries('validation.csv'),
        '  test:',
        entries('holdout.csv'),
        'preprocessing: { standardize: true }',
        `model: { type: mlp, layers: [${HIDDEN}, 1], activation: relu, output: sigmoid, init: { file: init.json } }`,
        'training:',
        `  epochs: ${EPOCHS}`,
        `  batchSize: ${BATCH}`,
        `  lr: ${LR}`,
        '  optimizer: adam',
        '  loss: bce',
        '  shuffle: true',
        `  shuffleSeed: ${SHUFFLE_SEED}`,
        '  classWeight: balanced',
        '',
      ].join('\n'),
    );
    const spec = loadSpec(specFile, { checkFiles: true });
    assert.equal(spec.data!.train[2]!.classWeight, 20);
    assert.equal(spec.training!.classWeight, 'balanced');

    // ---- float64 oracle: the same rows, statistics, weights, order, init and optimizer
    const read = async (f: string): Promise<{ data: Float64Array; rows: number }> =>
      readCsv(f, { columns: 17, integerColumns: ['fraud'] });
    const trainT = await Promise.all(files.train.map(read));
    const joint = (ts: { data: Float64Array; rows: number }[]): { data: Float64Array; rows: number } => {
      const rows = ts.reduce((s, t) => s + t.rows, 0);
      const data = new Float64Array(rows * W);
      let off = 0;
      for (const t of ts) {
        data.set(t.data, off);
        off += t.data.length;
      }
      return { data, rows };
    };
    const jt = joint(trainT);
    const stats = columnStats(jt.data, jt.rows, W, NF);
    const prep = (t: { data: Float64Array; rows: number }): Set => ({
      ...featuresAndLabels(t.data, t.rows, W, stats),
      rows: t.rows,
    });
    const train = prep(jt);
    const val = prep(joint(await Promise.all(files.validation.map(read))));
    const tst = prep(joint(await Promise.all(files.test.map(read))));
    // each owner's positive-class weight from its own rows (PyTorch pos_weight = negatives/positives)
    const pw = new Float64Array(train.rows);
    let off = 0;
    const ownerPw: number[] = [];
    trainT.forEach((t, o) => {
      const y = featuresAndLabels(t.data, t.rows, W, stats).y;
      const pos = y.reduce((s, v) => s + v, 0);
      const w = o === 2 ? 20 : (t.rows - pos) / pos;
      assert.equal(ownerClassWeight(o === 2 ? 20 : 'balanced', y), w);
      ownerPw.push(w);
      pw.fill(w, off, off + t.rows);
      off += t.rows;
    });
    assert.ok(ownerPw[0]! > 10 && ownerPw[1]! > 10, `balanced weights ${ownerPw.join(', ')}`);
    const rowW = Float64Array.from(train.y, (y, i) => (y > 0.5 ? pw[i]! : 1));
    const oracle = { loss: [] as number[], val: [] as { loss: number; m: SecureBinaryMetrics }[] };
    trainMlp(init, train.x, train.y, train.rows, {
      epochs: EPOCHS,
      batchSize: BATCH,
      lr: LR,
      eps: ADAM_EPS,
      engineAdam: { clip: 127 / 256 },
      rowWeights: rowW,
      order: (epoch) => publicPermutation(SHUFFLE_SEED, epoch, train.rows),
      onEpoch: () => {
        oracle.loss.push(torchWeightedBce(forwardMlp(init, train.x, train.rows), train.y, pw));
        const z = forwardMlp(init, val.x, val.rows);
        oracle.val.push({ loss: logLoss(z, val.y), m: binnedMetrics(z, val.y) });
      },
    });
    const oracleTest = binnedMetrics(forwardMlp(init, tst.x, tst.rows), tst.y);

    // ---- the secure job
    const t0 = performance.now();
    const seen: { epoch: number; validation: unknown }[] = [];
    const { results, rounds, bytesSent } = await runSpecInMemory(spec, {
      trainAccuracy: false,
      onEpoch: (epoch, _loss, info) => seen.push({ epoch, validation: info.validation }),
    });
    const seconds = (performance.now() - t0) / 1000;
    assert.equal(results.length, 4);
    const r = results[0] as unknown as {
      rows: { train: number; test: number; validation: number };
      metrics: {
        lossPerEpoch: number[];
        validation: {
          epoch: number;
          loss: number;
          accuracy: number;
          precision: number;
          recall: number;
          f1: number;
          auc: number;
          rows: number;
        }[];
        testAccuracy: number;
        test: { precision: number; recall: number; f1: number; auc: number; accuracy: number; rows: number };
      };
    };
    // every party (the operator too) learns the same aggregates
    for (const q of results) assert.deepEqual((q as typeof r).metrics, r.metrics);
    assert.deepEqual(r.rows, { train: train.rows, test: tst.rows, validation: val.rows });
    const m = r.metrics;
    const lines: string[] = [];
    assert.equal(m.lossPerEpoch.length, EPOCHS);
    assert.equal(m.validation.length, EPOCHS);
    // the epoch callback (every party's) got exactly the reported per-epoch metrics
    assert.equal(seen.length, 4 * EPOCHS);
    for (const x of seen) assert.deepEqual(x.validation, m.validation[x.epoch]);
    const counts = (x: { precision: number; recall: number }, pos: number): { tp: number; p: number } => {
      const tp = Math.round(x.recall * pos);
      return { tp, p: x.precision > 0 ? Math.round(tp / x.precision) : 0 };
    };
    for (let ep = 0; ep < EPOCHS; ep++) {
      const s = m.validation[ep]!;
      const o = oracle.val[ep]!;
      lines.push(
        `epoch ${ep + 1}: train loss ${m.lossPerEpoch[ep]!.toFixed(4)} (float64 ${oracle.loss[ep]!.toFixed(4)}), ` +
          `validation loss ${s.loss.toFixed(4)} (${o.loss.toFixed(4)}), auc ${s.auc.toFixed(4)} (${o.m.auc.toFixed(4)}), ` +
          `f1 ${s.f1.toFixed(4)} (${o.m.f1.toFixed(4)}), precision ${s.precision.toFixed(4)} (${o.m.precision.toFixed(4)}), ` +
          `recall ${s.recall.toFixed(4)} (${o.m.recall.toFixed(4)})`,
      );
      assert.equal(s.epoch, ep);
      assert.equal(s.rows, val.rows);
      assert.ok(Math.abs(m.lossPerEpoch[ep]! - oracle.loss[ep]!) < 1e-2, lines.join('\n'));
      assert.ok(Math.abs(s.loss - o.loss) < 1e-2, lines.join('\n'));
      assert.ok(Math.abs(s.auc - o.m.auc) < 0.01, lines.join('\n'));
      assert.ok(Math.abs(s.accuracy - o.m.accuracy) <= 0.01, lines.join('\n'));
      const a = counts(s, o.m.positives);
      const b = counts(o.m, o.m.positives);
      assert.ok(Math.abs(a.tp - b.tp) <= 1 && Math.abs(a.p - b.p) <= 0.01 * val.rows, lines.join('\n'));
    }
    const t = m.test;
    lines.push(
      `test: auc ${t.auc.toFixed(4)} (${oracleTest.auc.toFixed(4)}), f1 ${t.f1.toFixed(4)} (${oracleTest.f1.toFixed(4)}), ` +
        `precision ${t.precision.toFixed(4)} (${oracleTest.precision.toFixed(4)}), recall ${t.recall.toFixed(4)} (${oracleTest.recall.toFixed(4)}), ` +
        `accuracy ${t.accuracy.toFixed(4)} (${oracleTest.accuracy.toFixed(4)})`,
      `${seconds.toFixed(1)} s, ${rounds} rounds, ${(bytesSent / 1e6).toFixed(1)} MB per party`,
    );
    assert.equal(t.rows, tst.rows);
    assert.equal(m.testAccuracy, t.accuracy);
    assert.ok(Math.abs(t.auc - oracleTest.auc) < 0.01, lines.join('\n'));
    assert.ok(Math.abs(t.accuracy - oracleTest.accuracy) <= 0.01, lines.join('\n'));
    const a = counts(t, oracleTest.positives);
    const b = counts(oracleTest, oracleTest.positives);
    assert.ok(Math.abs(a.tp - b.tp) <= 1 && Math.abs(a.p - b.p) <= 0.01 * tst.rows, lines.join('\n'));
    // the model learned something on the held-out banks' union
    assert.ok(t.auc > 0.8, lines.join('\n'));
    console.log(lines.join('\n'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
