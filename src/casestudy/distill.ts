/**
 * The public half of distillation (docs/casestudy.md, "Public distillation"): the recipient of the
 * revealed soft labels trains a small public model IN THE CLEAR on (public rows, soft labels) and
 * evaluates it. Nothing here is secret: the rows are public (src/casestudy/public-set.ts), the labels
 * were opened to this recipient by the approved distill job.
 *
 * The student is a logistic regression (`hidden: []`) or a small ReLU MLP (e.g. `hidden: [8]`),
 * trained with BCE on the soft targets (the gradient σ(z) − p works for targets in [0, 1]) and Adam
 * (src/casestudy/plain.ts), on features standardized with the PUBLIC set's own statistics (the
 * student carries its standardization, so it needs nothing from the banks).
 */
import { invalidArgument } from '../errors.js';
import {
  binaryMetrics,
  columnStats,
  forwardMlp,
  initMlp,
  trainMlp,
  type BinaryMetrics,
  type PlainMlp,
} from './plain.js';

export interface DistillOptions {
  /** Hidden layer sizes of the student (default [8]: a 16-8-1 MLP); [] = logistic regression. */
  readonly hidden?: readonly number[];
  /** Default: enough epochs for about 2,000 Adam steps (20..200 epochs). */
  readonly epochs?: number;
  /** Default 256. */
  readonly batchSize?: number;
  /** Adam learning rate, default 0.01. */
  readonly lr?: number;
  /** 16-byte seed of the student's initialisation (default zeros: a public constant). */
  readonly seed?: Uint8Array;
}

/** The public model: its standardization and its network (a single logit output). */
export interface PublicModel {
  readonly mean: Float64Array;
  readonly std: Float64Array;
  readonly net: PlainMlp;
  /** Mean soft-label BCE per epoch of the student's training. */
  readonly lossPerEpoch: number[];
}

function standardize(x: Float64Array, rows: number, mean: Float64Array, std: Float64Array): Float64Array {
  const d = mean.length;
  const out = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < d; j++) out[r * d + j] = (x[r * d + j]! - mean[j]!) / std[j]!;
  return out;
}

/**
 * Train the public student on `rows` public rows (row-major, `features` wide) and their revealed
 * soft labels (probabilities in [0, 1]).
 */
export function distillPublicModel(
  x: Float64Array,
  labels: ArrayLike<number>,
  opts: DistillOptions & { readonly features?: number } = {},
): PublicModel {
  const d = opts.features ?? 16;
  const rows = labels.length;
  if (rows === 0 || x.length !== rows * d)
    throw invalidArgument(`distillPublicModel: ${x.length} values for ${rows} labels × ${d} features`);
  const y = Float64Array.from(labels);
  for (const p of y)
    if (!(p >= 0 && p <= 1)) throw invalidArgument('distillPublicModel: soft labels must lie in [0, 1]');
  const { mean, std } = columnStats(x, rows, d, d);
  const xs = standardize(x, rows, mean, std);
  const net = initMlp([d, ...(opts.hidden ?? [8]), 1], opts.seed ?? new Uint8Array(16));
  const batchSize = opts.batchSize ?? 256;
  const steps = Math.ceil(rows / batchSize);
  const lossPerEpoch = trainMlp(net, xs, y, rows, {
    epochs: opts.epochs ?? Math.min(200, Math.max(20, Math.ceil(2000 / steps))),
    batchSize,
    lr: opts.lr ?? 0.01,
  });
  return { mean, std, net, lossPerEpoch };
}

/** The public model's fraud probabilities on raw (unstandardized) rows. */
export function publicModelProbabilities(m: PublicModel, x: Float64Array): Float64Array {
  const d = m.mean.length;
  const rows = x.length / d;
  const z = forwardMlp(m.net, standardize(x, rows, m.mean, m.std), rows);
  return z.map((v) => 1 / (1 + Math.exp(-v)));
}

/** Precision, recall, F1 (at p > `threshold`, default ½), accuracy and AUC on a labelled test set. */
export function evaluatePublicModel(
  m: PublicModel,
  x: Float64Array,
  y: ArrayLike<number>,
  threshold = 0.5,
): BinaryMetrics {
  return binaryMetrics(publicModelProbabilities(m, x), y, threshold);
}

/** What `distillSpecText` needs: the training job's public facts and the public set. */
export interface DistillSpecOptions {
  readonly name: string;
  /** The training job's members, in its order. */
  readonly members: readonly string[];
  readonly scheme: 'rep3' | 'rep4' | 'shamir' | 'additive';
  readonly threshold?: number;
  readonly f?: number;
  /** The training job's architecture: 'logreg' or its MLP layers and functions. */
  readonly model:
    'logreg' | { readonly layers: readonly number[]; readonly activation?: string; readonly output: string };
  /** The training job's id on the platform (or the training spec's name for `run --local`). */
  readonly fromJob: string;
  readonly publicSet: { readonly generator: string; readonly seed: number; readonly rows: number };
  /** The members who receive the soft labels. */
  readonly to: readonly string[];
}

/** The YAML of a `task: distill` job spec (docs/jobspec.md) — e.g. for the demo to propose. */
export function distillSpecText(o: DistillSpecOptions): string {
  const m =
    o.model === 'logreg'
      ? `{ type: logreg, fromJob: ${o.fromJob} }`
      : `{ type: mlp, layers: [${o.model.layers.join(', ')}], activation: ${o.model.activation ?? 'relu'}, output: ${o.model.output}, fromJob: ${o.fromJob} }`;
  return [
    'version: 1',
    `name: ${o.name}`,
    'task: distill',
    `members: [${o.members.join(', ')}]`,
    `scheme: { name: ${o.scheme}${o.threshold !== undefined ? `, threshold: ${o.threshold}` : ''} }`,
    ...(o.f !== undefined ? [`fixedPoint: { f: ${o.f} }`] : []),
    `model: ${m}`,
    `publicSet: { generator: ${o.publicSet.generator}, seed: ${o.publicSet.seed}, rows: ${o.publicSet.rows} }`,
    `output: { labels: reveal, to: [${o.to.join(', ')}] }`,
    '',
  ].join('\n');
}
