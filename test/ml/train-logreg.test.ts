import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readCsv } from '../../src/data/csv.js';
import { applyStandardization, type StandardizationParams } from '../../src/data/standardize.js';
import { SecretTensor } from '../../src/tensor/tensor.js';
import { Linear, BCEWithLogitsLoss, SGD } from '../../src/ml/modules/index.js';
import { fit } from '../../src/ml/train.js';
import { Rep3Session } from '../../src/protocols/rep3/session.js';
import { runAll, type EngineFactory } from '../protocols/conformance.js';
import { dataPath } from '../data/paths.js';

const rep3: EngineFactory = { name: 'rep3', n: 3, create: (ch) => Rep3Session.create(ch, { f: 16 }) };

interface Ref {
  parameters: { '0.weight': number[][]; '0.bias': number[] };
}
const ref = JSON.parse(readFileSync(dataPath('reference/breast_cancer_logreg.json'), 'utf8')) as Ref;
const stdJson = JSON.parse(
  readFileSync(dataPath('reference/breast_cancer_standardization.json'), 'utf8'),
) as {
  columns: string[];
  mean: number[];
  std: number[];
};
const stdParams: StandardizationParams = {
  columns: stdJson.columns,
  mean: Float64Array.from(stdJson.mean),
  std: Float64Array.from(stdJson.std),
  rows: 455,
};
const refW = ref.parameters['0.weight'].flat();
const refB = ref.parameters['0.bias'];

// Measured: max |W − W_ref| over the 31 parameters ≈ 1.6e-4 (rep3, f = 16, exact sigmoid); tolerance 2e-3.
const WEIGHT_TOL = 2e-3;
const REF_ACC = 0.9737;

/** Split a standardized table (30 features + label last) into features and labels. */
function split(data: Float64Array, rows: number): { x: Float64Array; y: Float64Array } {
  const x = new Float64Array(rows * 30);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    x.set(data.subarray(i * 31, i * 31 + 30), i * 30);
    y[i] = data[i * 31 + 30]!;
  }
  return { x, y };
}

void test('rep3: logistic regression on the horizontal 3-org breast-cancer split matches the reference', async () => {
  const t0 = Date.now();
  const orgs = await Promise.all(
    [1, 2, 3].map((k) => readCsv(dataPath(`splits/breast_cancer/horizontal/org${k}.csv`), { columns: 31 })),
  );
  const local = orgs.map((t) => split(applyStandardization(t, stdParams).data, t.rows));
  const rows = orgs.map((t) => t.rows);

  const out = await runAll(rep3, async (e, me) => {
    // each organization inputs only its own standardized rows, as party 0, 1, 2
    const xs: SecretTensor<unknown>[] = [];
    const ys: SecretTensor<unknown>[] = [];
    for (let p = 0; p < 3; p++) {
      xs.push(await SecretTensor.fromOwner(e, p, me === p ? local[p]!.x : null, [rows[p]!, 30]));
      ys.push(await SecretTensor.fromOwner(e, p, me === p ? local[p]!.y : null, [rows[p]!, 1]));
    }
    const x = SecretTensor.concat(xs, 0);
    const y = SecretTensor.concat(ys, 0);
    const model = Linear.create(e, 30, 1);
    const opt = new SGD(model.parameters(), { lr: 0.1 });
    await fit(model, new BCEWithLogitsLoss(), opt, x, y, { batchSize: 35, epochs: 10 });
    const w = await model.weight.value.reveal();
    const b = await model.bias.value.reveal();
    return { w: w!, b: b! };
  });
  const secs = (Date.now() - t0) / 1000;
  const { w, b } = out[0]!;
  for (const o of out) assert.deepEqual([...o.w, ...o.b], [...w, ...b]);

  // weights vs reference
  let maxErr = 0;
  for (let j = 0; j < 30; j++) maxErr = Math.max(maxErr, Math.abs(w[j]! - refW[j]!));
  maxErr = Math.max(maxErr, Math.abs(b[0]! - refB[0]!));

  // test accuracy in plaintext from the revealed weights
  const testT = await readCsv(dataPath('splits/breast_cancer/test.csv'), { columns: 31 });
  const te = split(applyStandardization(testT, stdParams).data, testT.rows);
  let correct = 0;
  for (let i = 0; i < testT.rows; i++) {
    let z = b[0]!;
    for (let j = 0; j < 30; j++) z += te.x[i * 30 + j]! * w[j]!;
    if ((z >= 0 ? 1 : 0) === te.y[i]) correct++;
  }
  const acc = correct / testT.rows;
  console.log(
    `logreg rep3: test accuracy ${acc.toFixed(4)} (${correct}/${testT.rows}), max |w − w_ref| ${maxErr.toExponential(3)}, ${secs.toFixed(1)} s`,
  );
  assert.ok(Math.abs(acc - REF_ACC) <= 0.01, `accuracy ${acc} vs ${REF_ACC}`);
  assert.ok(maxErr <= WEIGHT_TOL, `max weight error ${maxErr} > ${WEIGHT_TOL}`);
});
