/**
 * Float64 oracle for the fraud training tests: the same rows (the banks' CSVs concatenated in owner
 * order), joint standardization, per-owner positive-class weights (PyTorch pos_weight), public row
 * order, initial parameters and the engine's Adam variant as the secure `ml.train` job.
 */
import { NF } from '../../src/casestudy/fraud-data.js';
import {
  columnStats,
  featuresAndLabels,
  forwardMlp,
  trainMlp,
  type PlainMlp,
} from '../../src/casestudy/plain.js';
import { readCsv } from '../../src/data/csv.js';
import { binnedMetrics, type SecureBinaryMetrics } from '../../src/ml/metrics.js';
import { publicPermutation } from '../../src/ml/model.js';

const W = NF + 1;

async function joint(files: readonly string[]): Promise<{ data: Float64Array; rows: number; per: number[] }> {
  const ts = await Promise.all(files.map((f) => readCsv(f, { columns: 17, integerColumns: ['fraud'] })));
  const data = new Float64Array(ts.reduce((s, t) => s + t.data.length, 0));
  let o = 0;
  for (const t of ts) {
    data.set(t.data, o);
    o += t.data.length;
  }
  return { data, rows: data.length / W, per: ts.map((t) => t.rows) };
}

function softplus(z: number): number {
  return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
}

export interface OracleEpoch {
  /** PyTorch BCEWithLogitsLoss(pos_weight = the owner's weight), mean over the training rows. */
  readonly trainLoss: number;
  readonly valLoss: number;
  readonly val: SecureBinaryMetrics;
}

/** Train `init` (modified in place) and report per epoch and on the test set. */
export async function fraudOracle(
  init: PlainMlp,
  files: { train: readonly string[]; validation: readonly string[]; test: readonly string[] },
  o: {
    epochs: number;
    batchSize: number;
    lr: number;
    shuffleSeed: number;
    /** Per owner: 'balanced' (its negatives/positives) or a number. */
    weights: readonly ('balanced' | number)[];
  },
): Promise<{ epochs: OracleEpoch[]; test: SecureBinaryMetrics }> {
  const tr = await joint(files.train);
  const stats = columnStats(tr.data, tr.rows, W, NF);
  const train = featuresAndLabels(tr.data, tr.rows, W, stats);
  const vt = await joint(files.validation);
  const val = featuresAndLabels(vt.data, vt.rows, W, stats);
  const te = await joint(files.test);
  const tst = featuresAndLabels(te.data, te.rows, W, stats);
  const pw = new Float64Array(tr.rows);
  let off = 0;
  tr.per.forEach((rows, k) => {
    let pos = 0;
    for (let i = off; i < off + rows; i++) pos += train.y[i]!;
    const w = o.weights[k]!;
    pw.fill(w === 'balanced' ? (pos === 0 || pos === rows ? 1 : (rows - pos) / pos) : w, off, off + rows);
    off += rows;
  });
  const epochs: OracleEpoch[] = [];
  trainMlp(init, train.x, train.y, tr.rows, {
    epochs: o.epochs,
    batchSize: o.batchSize,
    lr: o.lr,
    eps: 2 ** -13, // the engine's ε̃ = max(eps, 2^-5/256)
    engineAdam: { clip: 127 / 256 },
    rowWeights: Float64Array.from(train.y, (y, i) => (y > 0.5 ? pw[i]! : 1)),
    order: (epoch) => publicPermutation(o.shuffleSeed, epoch, tr.rows),
    onEpoch: () => {
      const z = forwardMlp(init, train.x, tr.rows);
      let tl = 0;
      for (let i = 0; i < tr.rows; i++)
        tl += pw[i]! * train.y[i]! * softplus(-z[i]!) + (1 - train.y[i]!) * softplus(z[i]!);
      const zv = forwardMlp(init, val.x, vt.rows);
      let vl = 0;
      for (let i = 0; i < vt.rows; i++) vl += softplus(zv[i]!) - val.y[i]! * zv[i]!;
      epochs.push({ trainLoss: tl / tr.rows, valLoss: vl / vt.rows, val: binnedMetrics(zv, val.y) });
    },
  });
  return { epochs, test: binnedMetrics(forwardMlp(init, tst.x, te.rows), tst.y) };
}

/** The initial-parameter JSON of a [16, h, 1] plain MLP under torch state_dict names. */
export function initJson(init: PlainMlp): string {
  return JSON.stringify({
    initial_parameters: {
      '0.weight': [...init.w[0]!],
      '0.bias': [...init.b[0]!],
      '2.weight': [...init.w[1]!],
      '2.bias': [...init.b[1]!],
    },
  });
}
