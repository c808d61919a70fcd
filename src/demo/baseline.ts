/**
 * The plaintext baselines the demo puts next to the joint secret model: each bank trains the same
 * network on its own rows alone, in the clear (what it can do without the consortium), standardized
 * with its own statistics, and is evaluated on the joint held-out set (every bank's holdout rows).
 * A "pooled" row — all three banks' rows in one place, which no bank may do — is the reference the
 * secure training emulates.
 */
import { NF, type FraudTable } from '../casestudy/fraud-data.js';
import {
  binaryMetrics,
  columnStats,
  featuresAndLabels,
  forwardMlp,
  initMlp,
  trainMlp,
  type BinaryMetrics,
} from '../casestudy/plain.js';
import type { DemoTraining } from './spec.js';

const W = NF + 1;

export function concatTables(ts: readonly FraudTable[]): FraudTable {
  const rows = ts.reduce((a, t) => a + t.rows, 0);
  const data = new Float64Array(rows * W);
  const pattern = new Uint8Array(rows);
  let o = 0;
  for (const t of ts) {
    data.set(t.data, o * W);
    pattern.set(t.pattern, o);
    o += t.rows;
  }
  return { rows, data, pattern };
}

/** A public seeded row order (Fisher–Yates with a fixed LCG), as the secure job's shuffled batches. */
export function shuffleTable(t: FraudTable, seed = 12345): FraudTable {
  const n = t.rows;
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  let st = seed;
  for (let i = n - 1; i > 0; i--) {
    st = (st * 1103515245 + 12345) % 2147483648;
    const j = st % (i + 1);
    const tmp = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = tmp;
  }
  const data = new Float64Array(t.data.length);
  const pattern = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const p = perm[i]!;
    data.set(t.data.subarray(p * W, (p + 1) * W), i * W);
    pattern[i] = t.pattern[p]!;
  }
  return { rows: n, data, pattern };
}

export interface BaselineResult extends BinaryMetrics {
  rows: number;
  seconds: number;
}

/** Train the demo's network on `train` in float64 and evaluate it on `test` at p = ½. */
export function plainModel(
  train: FraudTable,
  test: FraudTable,
  t: DemoTraining,
  opts: { posWeight?: number; seed?: Uint8Array } = {},
): BaselineResult {
  const t0 = performance.now();
  const stats = columnStats(train.data, train.rows, W, NF);
  const { x, y } = featuresAndLabels(train.data, train.rows, W, stats);
  const m = initMlp([NF, ...t.hidden, 1], opts.seed ?? Uint8Array.of(t.initSeed));
  trainMlp(m, x, y, train.rows, {
    epochs: t.epochs,
    batchSize: t.batchSize,
    lr: t.lr,
    ...(opts.posWeight !== undefined ? { posWeight: opts.posWeight } : {}),
  });
  const te = featuresAndLabels(test.data, test.rows, W, stats);
  const z = forwardMlp(m, te.x, test.rows);
  return { ...binaryMetrics(z, te.y, 0), rows: train.rows, seconds: (performance.now() - t0) / 1000 };
}
