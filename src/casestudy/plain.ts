/**
 * Plaintext float64 baselines for the case study: an MLP with weighted binary cross-entropy trained by
 * mini-batch Adam, plus the classification metrics the demo reports. Used for "each bank alone" (a
 * bank can train on its own rows in the clear), for the public distilled model (trained in the clear
 * on revealed labels) and as the oracle the secure training is compared with.
 */
import { Prg, deriveSeed } from '../math/prg.js';
import { invalidArgument } from '../errors.js';

export interface PlainMlp {
  /** Layer sizes, input first, e.g. [16, 32, 16, 1]. */
  readonly sizes: readonly number[];
  /** Per layer: weight [out, in] row-major. */
  readonly w: Float64Array[];
  readonly b: Float64Array[];
}

/** Deterministic He-uniform initialisation from a seed (PyTorch's default bound 1/√in for biases). */
export function initMlp(sizes: readonly number[], seed: Uint8Array): PlainMlp {
  const prg = new Prg(deriveSeed(seed, 'mlp-init'));
  const w: Float64Array[] = [];
  const b: Float64Array[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const fin = sizes[l]!;
    const fout = sizes[l + 1]!;
    const bound = 1 / Math.sqrt(fin);
    const words = prg.words(fout * fin + fout);
    const u = (k: number): number => (words[k]! / 4294967296) * 2 - 1;
    w.push(Float64Array.from({ length: fout * fin }, (_, k) => u(k) * bound * Math.sqrt(3)));
    b.push(Float64Array.from({ length: fout }, (_, k) => u(fout * fin + k) * bound));
  }
  return { sizes: [...sizes], w, b };
}

/** Forward pass for rows [r0, r1) of x (row-major, width sizes[0]); returns the logits. */
export function forwardMlp(m: PlainMlp, x: Float64Array, rows: number): Float64Array {
  let h = x;
  for (let l = 0; l < m.w.length; l++) {
    const fin = m.sizes[l]!;
    const fout = m.sizes[l + 1]!;
    const o = new Float64Array(rows * fout);
    const W = m.w[l]!;
    const B = m.b[l]!;
    const last = l === m.w.length - 1;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < fout; j++) {
        let s = B[j]!;
        for (let i = 0; i < fin; i++) s += h[r * fin + i]! * W[j * fin + i]!;
        o[r * fout + j] = last || s > 0 ? s : 0;
      }
    }
    h = o;
  }
  return h;
}

export interface PlainTrainOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly lr: number;
  /** Weight of the positive class in the BCE (class imbalance); default 1. */
  readonly posWeight?: number;
  /** Per-row weights (e.g. each owner's own positive-class weight on its rows); overrides posWeight. */
  readonly rowWeights?: Float64Array;
  /** A row order per epoch (a permutation of [0, rows)); default: file order. */
  readonly order?: (epoch: number) => Int32Array;
  /**
   * The secure engine's Adam variant (src/ml/modules/optim.ts), for oracles: each gradient element
   * clipped to ±clip before the moments (the engine clips s·g to ±127, i.e. clip = 127/s, s = 256),
   * and the denominator √(v̂ + ε²) instead of √v̂ + ε. Default: PyTorch's Adam (no clipping).
   */
  readonly engineAdam?: { readonly clip: number };
  /** After every epoch (e.g. metrics on a validation set with the current model). */
  readonly onEpoch?: (epoch: number) => void;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
}

/**
 * Train a ReLU MLP with a single logit output on (x, y) with weighted BCE-with-logits and Adam
 * (PyTorch semantics). Batches are consecutive rows (shuffle beforehand if wanted). Returns the mean
 * training loss per epoch.
 */
export function trainMlp(
  m: PlainMlp,
  x: Float64Array,
  y: Float64Array,
  rows: number,
  o: PlainTrainOptions,
): number[] {
  const L = m.w.length;
  if (m.sizes[L] !== 1) throw invalidArgument('trainMlp: one output logit expected');
  const pw = o.posWeight ?? 1;
  const b1 = o.beta1 ?? 0.9;
  const b2 = o.beta2 ?? 0.999;
  const eps = o.eps ?? 1e-8;
  const params = [...m.w, ...m.b];
  const mom = params.map((p) => new Float64Array(p.length));
  const vel = params.map((p) => new Float64Array(p.length));
  const grads = params.map((p) => new Float64Array(p.length));
  let t = 0;
  const losses: number[] = [];
  const d0 = m.sizes[0]!;
  const d1 = d0;
  const rw = o.rowWeights;
  if (rw && rw.length !== rows) throw invalidArgument(`trainMlp: ${rw.length} row weights for ${rows} rows`);
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    let lossSum = 0;
    // this epoch's rows (in the public order when given)
    let xe = x;
    let ye = y;
    let we = rw;
    const perm = o.order?.(epoch);
    if (perm) {
      if (perm.length !== rows)
        throw invalidArgument(`trainMlp: row order of ${perm.length} for ${rows} rows`);
      xe = new Float64Array(rows * d1);
      ye = new Float64Array(rows);
      we = rw ? new Float64Array(rows) : undefined;
      for (let i = 0; i < rows; i++) {
        const r = perm[i]!;
        xe.set(x.subarray(r * d1, (r + 1) * d1), i * d1);
        ye[i] = y[r]!;
        if (we) we[i] = rw![r]!;
      }
    }
    for (let r0 = 0; r0 < rows; r0 += o.batchSize) {
      const n = Math.min(o.batchSize, rows - r0);
      // forward, keeping activations
      const acts: Float64Array[] = [xe.subarray(r0 * d0, (r0 + n) * d0)];
      for (let l = 0; l < L; l++) {
        const fin = m.sizes[l]!;
        const fout = m.sizes[l + 1]!;
        const h = acts[l]!;
        const out = new Float64Array(n * fout);
        const W = m.w[l]!;
        const B = m.b[l]!;
        for (let r = 0; r < n; r++)
          for (let j = 0; j < fout; j++) {
            let s = B[j]!;
            for (let i = 0; i < fin; i++) s += h[r * fin + i]! * W[j * fin + i]!;
            out[r * fout + j] = l === L - 1 || s > 0 ? s : 0;
          }
        acts.push(out);
      }
      // loss and dL/dz for weighted BCE with logits: w·(σ(z) − y)/n with w = pw for y = 1
      const z = acts[L]!;
      let g = new Float64Array(n);
      for (let r = 0; r < n; r++) {
        const yy = ye[r0 + r]!;
        const zz = z[r]!;
        const wgt = we ? we[r0 + r]! : yy > 0.5 ? pw : 1;
        const sp = Math.max(zz, 0) + Math.log1p(Math.exp(-Math.abs(zz))); // softplus(z)
        lossSum += wgt * (sp - yy * zz);
        g[r] = (wgt * (1 / (1 + Math.exp(-zz)) - yy)) / n;
      }
      for (const gr of grads) gr.fill(0);
      for (let l = L - 1; l >= 0; l--) {
        const fin = m.sizes[l]!;
        const fout = m.sizes[l + 1]!;
        const h = acts[l]!;
        const W = m.w[l]!;
        const gW = grads[l]!;
        const gB = grads[L + l]!;
        const gin = new Float64Array(n * fin);
        for (let r = 0; r < n; r++)
          for (let j = 0; j < fout; j++) {
            const gj = g[r * fout + j]!;
            if (gj === 0) continue;
            gB[j] = gB[j]! + gj;
            for (let i = 0; i < fin; i++) {
              gW[j * fin + i] = gW[j * fin + i]! + gj * h[r * fin + i]!;
              gin[r * fin + i] = gin[r * fin + i]! + gj * W[j * fin + i]!;
            }
          }
        if (l > 0) for (let k = 0; k < gin.length; k++) if (!(h[k]! > 0)) gin[k] = 0; // ReLU'
        g = gin;
      }
      t++;
      const c1 = 1 - b1 ** t;
      const c2 = 1 - b2 ** t;
      const ea = o.engineAdam;
      for (let p = 0; p < params.length; p++) {
        const P = params[p]!;
        const G = grads[p]!;
        if (ea) for (let k = 0; k < G.length; k++) G[k] = Math.max(-ea.clip, Math.min(ea.clip, G[k]!));
        const M = mom[p]!;
        const V = vel[p]!;
        for (let k = 0; k < P.length; k++) {
          M[k] = b1 * M[k]! + (1 - b1) * G[k]!;
          V[k] = b2 * V[k]! + (1 - b2) * G[k]! * G[k]!;
          const den = ea ? Math.sqrt(V[k]! / c2 + eps * eps) : Math.sqrt(V[k]! / c2) + eps;
          P[k] = P[k]! - (o.lr * (M[k]! / c1)) / den;
        }
      }
    }
    losses.push(lossSum / rows);
    o.onEpoch?.(epoch);
  }
  return losses;
}

export interface BinaryMetrics {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly auc: number;
  readonly accuracy: number;
  readonly positives: number;
  readonly predictedPositives: number;
}

/**
 * Precision, recall, F1 and accuracy at `threshold` on the score, and the ROC AUC (Mann–Whitney U,
 * ties counted half). Scores are any monotone function of the probability (logits are fine with
 * threshold 0).
 */
export function binaryMetrics(
  score: ArrayLike<number>,
  y: ArrayLike<number>,
  threshold: number,
): BinaryMetrics {
  const n = y.length;
  if (score.length !== n) throw invalidArgument(`binaryMetrics: ${score.length} scores for ${n} labels`);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const p = score[i]! > threshold;
    const t = y[i]! > 0.5;
    if (p && t) tp++;
    else if (p) fp++;
    else if (t) fn++;
    if (p === t) correct++;
  }
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return {
    precision,
    recall,
    f1,
    auc: rocAuc(score, y),
    accuracy: correct / n,
    positives: tp + fn,
    predictedPositives: tp + fp,
  };
}

/** ROC AUC by ranks (average ranks for ties). */
export function rocAuc(score: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = y.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a]! - score[b]!);
  let rankSumPos = 0;
  let pos = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && score[idx[j + 1]!] === score[idx[i]!]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++)
      if (y[idx[k]!]! > 0.5) {
        rankSumPos += avgRank;
        pos++;
      }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return Number.NaN;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Column means and (population) standard deviations of a row-major table's first `d` columns. */
export function columnStats(
  x: Float64Array,
  rows: number,
  width: number,
  d: number,
): { mean: Float64Array; std: Float64Array } {
  const mean = new Float64Array(d);
  const sq = new Float64Array(d);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < d; j++) {
      const v = x[r * width + j]!;
      mean[j] = mean[j]! + v;
      sq[j] = sq[j]! + v * v;
    }
  const std = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    mean[j] = mean[j]! / rows;
    const v = sq[j]! / rows - mean[j]! * mean[j]!;
    std[j] = v > 1e-12 ? Math.sqrt(v) : 1;
  }
  return { mean, std };
}

/** Split a row-major table with the label in its last column into standardized features and labels. */
export function featuresAndLabels(
  t: Float64Array,
  rows: number,
  width: number,
  stats: { mean: Float64Array; std: Float64Array },
): { x: Float64Array; y: Float64Array } {
  const d = width - 1;
  const x = new Float64Array(rows * d);
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < d; j++) x[r * d + j] = (t[r * width + j]! - stats.mean[j]!) / stats.std[j]!;
    y[r] = t[r * width + d]!;
  }
  return { x, y };
}
