/**
 * `ml.train`: execute a validated training spec (docs/jobspec.md) at every party.
 *
 * Who learns what:
 * - each data owner reads ONLY its own dataset files; the parties exchange the public partition
 *   description (each owner's column names and row count) and nothing else in the clear;
 * - feature rows and labels are secret-shared by their owners (horizontal: rows concatenated in owner
 *   order; vertical: columns joined by row order, the label from the owner holding it);
 * - standardization (when the spec asks) is the secure global protocol of src/data/standardize.ts:
 *   only the joint mean and variance are opened (no owner's own statistics);
 * - with no standardization, the range check needs a bound on the features: the owners input their
 *   local max |x| and the parties open only the power-of-two bracket ⌈log2 max⌉ of the global max;
 * - class weights (`classWeight`, bce): each owner computes the positive-class weight of ITS rows
 *   (balanced = its negatives/its positives, or the declared number) and inputs the per-row weights
 *   1 + (w − 1)·y secret-shared with its rows; nobody else learns the weight or the owner's counts;
 * - per epoch, the mean loss over the whole training set (computed on shares) and, with a validation
 *   set (secret-shared by its owners like the test set), the secret model's mean log loss on it and
 *   the 2K + 1 counts of its ROC curve (precision, recall, F1, accuracy at p = 1/2 and the AUC follow)
 *   are opened to every compute party; at the end the same counts on the test set (binary tasks) or
 *   the number of correct test (and training) predictions — aggregates only;
 * - with `shuffle`, the rows are visited in a public per-epoch order from a public seed (the same
 *   permutation at every party; gathering shares is local);
 * - the parameters stay secret-shared (`output.model: shared`; each party keeps its shares in memory,
 *   nothing is logged or written) or are opened only to the members named in `output.to`.
 *
 * Before training, a static range check (src/tensor/range.ts) propagates worst-case bounds through
 * one training step (forward, loss gradient, backward, update) with the feature bound above and an
 * assumed parameter bound, and its report is part of the result.
 */
import { loadSpec } from '../spec/validate.js';
import { applyLocalPreprocessing, datasetsOf, readDataset } from '../spec/data.js';
import type { JobSpec } from '../spec/types.js';
import { readFileSync } from 'node:fs';
import type { Table } from '../data/csv.js';
import { describePartition, ownerPart, type OwnerPart, type Partition } from '../data/partition.js';
import { applyStandardization, secureStandardization } from '../data/standardize.js';
import { ShareholdError } from '../errors.js';
import { exchange } from '../protocols/channel.js';
import type { Engine } from '../protocols/engine.js';
import { toInts } from '../math/fixed.js';
import { SecretTensor } from '../tensor/tensor.js';
import { RangeTracker, type Bounded } from '../tensor/range.js';
import { fx } from '../tensor/nonlinear/util.js';
import type { SigmoidMethod } from '../tensor/nonlinear/sigmoid.js';
import { mlp, type InitOption, type Model } from '../ml/model.js';
import { Adam, SGD, type Optimizer } from '../ml/modules/optim.js';
import { defaultThresholds, type SecureBinaryMetrics } from '../ml/metrics.js';
import type { ClassWeight } from '../spec/types.js';
import { memoryNetwork } from '../net/memory.js';
import { createEngine } from './engines.js';
import type { Json, PartyContext } from './jobs.js';

export interface TrainJobOptions {
  /** Sigmoid approximation (default 'exact'). */
  readonly sigmoid?: SigmoidMethod;
  /** Compute the training loss after every epoch (default true). */
  readonly lossEachEpoch?: boolean;
  /** Also count correct predictions on the training set (default true). */
  readonly trainAccuracy?: boolean;
  /** Parameter bound assumed by the range check (default 4; the reference models stay below 2). */
  readonly paramBound?: number;
  /** Checkpoint/resume (the node orchestrator): save this party's state after every epoch. */
  readonly checkpoint?: TrainCheckpointHook;
  /** After every epoch (0-based, counted from the start of the run): the opened aggregates only. */
  readonly onEpoch?: (epoch: number, loss: number | undefined, info: EpochInfo) => void;
  /** When the inputs are shared and standardized (ms since the job started), before the first step. */
  readonly onInputs?: (ms: number) => void;
  /** After every training step: the epoch (0-based, from the start of the run), step k of `steps`. */
  readonly onStep?: (epoch: number, step: number, steps: number) => void;
}

/**
 * This party's secret-shared training state after an epoch: parameter shares (`param.<i>`),
 * optimizer state shares (`opt.<name>`) and public metadata (optimizer counters and state shapes,
 * losses so far). Nothing in it is opened.
 */
export interface TrainState {
  readonly shares: Record<string, unknown>;
  readonly meta: {
    counters: Record<string, number>;
    shapes: Record<string, number[]>;
    lossPerEpoch: number[];
    /** Per-epoch validation metrics so far (aggregates, as opened). */
    validation?: ValidationEpoch[];
  };
}

/** What is opened after an epoch on the validation set (aggregates only). */
export type ValidationEpoch = {
  /** 0-based epoch. */
  readonly epoch: number;
  /** Mean unweighted log loss (bce) / the spec's loss (other tasks) of the secret model. */
  readonly loss: number;
  readonly accuracy: number;
  /** Binary tasks: at p = 1/2, and the ROC AUC at 64 thresholds. */
  readonly precision?: number;
  readonly recall?: number;
  readonly f1?: number;
  readonly auc?: number;
  readonly rows: number;
};

/** Extra per-epoch information for the checkpoint hook (e.g. the node's `job.epoch` event). */
export interface EpochInfo {
  readonly validation?: ValidationEpoch;
}

export interface TrainCheckpointHook {
  /** The state to resume from (every party must pass the same epoch), or null. */
  readonly resume: (TrainState & { readonly epoch: number }) | null;
  /**
   * Called synchronously at the end of every epoch (0-based, counted from the start of the run) with
   * this party's state; a returned promise (e.g. writing the checkpoint) is awaited before the job
   * returns.
   */
  epochEnd(epoch: number, loss: number | undefined, state: TrainState, info: EpochInfo): void | Promise<void>;
}

/** Processes a spec needs: its members, plus a dealer for additive with dealer preprocessing. */
export function processesFor(spec: JobSpec): number {
  const n = spec.members.length;
  return spec.scheme.name === 'additive' && (spec.scheme.prep ?? 'dealer') === 'dealer' ? n + 1 : n;
}

interface Encoded {
  readonly x: SecretTensor<unknown>;
  /** scale·x when asked (each owner scales its own rows in float64 before inputting them). */
  readonly xs: SecretTensor<unknown> | null;
  /** Labels [N, 1] (class ids in fixed point). */
  readonly y: SecretTensor<unknown>;
  /** Training targets: [N, 1], one-hot [N, C], or [N, 2] = (label, weight) with class weights. */
  readonly target: SecretTensor<unknown>;
}

type Parts = { train: OwnerPart | null; test: OwnerPart | null; validation: OwnerPart | null };
type SetName = 'train' | 'test' | 'validation';

/** Largest positive-class weight (declared or balanced); balanced weights are clipped to it. */
export const MAX_CLASS_WEIGHT = 1000;

/**
 * An owner's positive-class weight from its own rows: 'balanced' = negatives/positives (1 when it
 * has no positive or no negative row), or the declared number. Runs at the owner only.
 */
export function ownerClassWeight(cw: ClassWeight, labels: ArrayLike<number>): number {
  if (cw !== 'balanced') return cw;
  let pos = 0;
  for (let i = 0; i < labels.length; i++) pos += labels[i]! > 0.5 ? 1 : 0;
  const neg = labels.length - pos;
  return pos === 0 || neg === 0 ? 1 : Math.min(MAX_CLASS_WEIGHT, neg / pos);
}

/** Whether the spec weights the training rows (some owner or `training.classWeight` gives a weight). */
function weighted(spec: JobSpec): boolean {
  return (
    spec.training?.classWeight !== undefined ||
    (spec.data?.train ?? []).some((d) => d.classWeight !== undefined)
  );
}

/** A public bound on every row weight: the declared numbers, MAX_CLASS_WEIGHT with 'balanced'. */
function weightBound(spec: JobSpec): number {
  const all = [spec.training?.classWeight, ...(spec.data?.train ?? []).map((d) => d.classWeight)];
  return Math.max(1, ...all.map((w) => (w === undefined ? 1 : w === 'balanced' ? MAX_CLASS_WEIGHT : w)));
}

function bad(message: string, details: Record<string, unknown> = {}): ShareholdError {
  return new ShareholdError('input-invalid', message, details);
}

/** Exchange the public parts (columns, rows) of every party's datasets among the compute parties. */
async function exchangeParts(ctx: PartyContext, parties: number, mine: Parts): Promise<Parts[]> {
  const others = [...Array(parties).keys()].filter((p) => p !== ctx.me);
  const payload = new TextEncoder().encode(JSON.stringify(mine));
  const got = await exchange(
    ctx.ch,
    'ml.train/partition',
    others.map((p) => [p, payload] as const),
    others,
  );
  const all: Parts[] = [];
  others.forEach((p, k) => {
    all[p] = JSON.parse(new TextDecoder().decode(got[k])) as Parts;
  });
  all[ctx.me] = mine;
  return all;
}

function partitionOf(spec: JobSpec, set: SetName, parts: Parts[]): Partition {
  const data = spec.data!;
  return describePartition(
    data.partition,
    (data[set] ?? []).map((d) => {
      const p = parts[d.party]?.[set];
      if (!p || p.party !== d.party)
        throw bad(`${set} set: party ${d.party} (${d.member}) did not describe its dataset`, {
          party: d.party,
        });
      return p;
    }),
  );
}

/** Feature columns of `t` (the partition's order, label excluded) as a row-major matrix. */
function features(t: Table, label: string): { data: Float64Array; cols: number } {
  const keep = t.columns.map((c, j) => (c === label ? -1 : j)).filter((j) => j >= 0);
  const w = t.columns.length;
  const out = new Float64Array(t.rows * keep.length);
  for (let i = 0; i < t.rows; i++) keep.forEach((j, q) => (out[i * keep.length + q] = t.data[i * w + j]!));
  return { data: out, cols: keep.length };
}

function labelsOf(
  t: Table,
  label: string,
  classes: number | null,
): { y: Float64Array; onehot: Float64Array | null } {
  const j = t.columns.indexOf(label);
  const w = t.columns.length;
  const y = new Float64Array(t.rows);
  for (let i = 0; i < t.rows; i++) y[i] = t.data[i * w + j]!;
  if (classes === null) return { y, onehot: null };
  const onehot = new Float64Array(t.rows * classes);
  for (let i = 0; i < t.rows; i++) {
    const c = y[i]!;
    if (!Number.isInteger(c) || c < 0 || c >= classes)
      throw bad(`${t.file}:${i + 2}: label outside 0..${classes - 1} (the model has ${classes} outputs)`, {
        file: t.file,
        line: i + 2,
      });
    onehot[i * classes + c] = 1;
  }
  return { y, onehot };
}

/** Secret-share a set: every owner inputs its part, all inputs issued at once. */
async function shareSet(
  e: Engine<unknown>,
  p: Partition,
  label: string,
  mine: Table | null,
  classes: number | null,
  scale?: number,
  /** With class weights: this party's positive-class weight (as an owner), or null (no weights). */
  weights?: { mine: number } | null,
): Promise<Encoded> {
  const me = e.me;
  const featCount = (o: OwnerPart): number => o.columns.filter((c) => c !== label).length;
  const holdsLabel = (o: OwnerPart): boolean => o.columns.includes(label);
  const C = classes ?? 1;
  const jobs = p.owners.map(async (o) => {
    const local = o.party === me ? mine : null;
    const F = featCount(o);
    const feats = local ? features(local, label).data : null;
    const lab = local && holdsLabel(o) ? labelsOf(local, label, classes) : null;
    const wcol = lab && weights ? lab.y.map((v) => (v > 0.5 ? weights.mine : 1)) : null; // 1 + (w − 1)·y
    const [x, xs, y, t, w] = await Promise.all([
      F > 0 ? SecretTensor.fromOwner(e, o.party, feats, [o.rows, F]) : null,
      F > 0 && scale !== undefined
        ? SecretTensor.fromOwner(e, o.party, feats ? feats.map((v) => v * scale) : null, [o.rows, F])
        : null,
      holdsLabel(o) ? SecretTensor.fromOwner(e, o.party, lab ? lab.y : null, [o.rows, 1]) : null,
      holdsLabel(o) && classes !== null
        ? SecretTensor.fromOwner(e, o.party, lab ? lab.onehot : null, [o.rows, C])
        : null,
      holdsLabel(o) && weights ? SecretTensor.fromOwner(e, o.party, wcol, [o.rows, 1]) : null,
    ]);
    return { x, xs, y, t, w };
  });
  const parts = await Promise.all(jobs);
  const axis = p.kind === 'horizontal' ? 0 : 1;
  const xs = parts.flatMap((q) => (q.x ? [q.x] : []));
  const xss = parts.flatMap((q) => (q.xs ? [q.xs] : []));
  const ys = parts.flatMap((q) => (q.y ? [q.y] : []));
  const ts = parts.flatMap((q) => (q.t ? [q.t] : []));
  const ws = parts.flatMap((q) => (q.w ? [q.w] : []));
  const y = SecretTensor.concat(ys, 0);
  return {
    x: SecretTensor.concat(xs, axis),
    xs: xss.length > 0 ? SecretTensor.concat(xss, axis) : null,
    y,
    target:
      classes !== null
        ? SecretTensor.concat(ts, 0)
        : weights
          ? SecretTensor.concat([y, SecretTensor.concat(ws, 0)], 1)
          : y,
  };
}

/**
 * A public bound on |features| for the range check without opening any owner's values: each owner
 * inputs its local max |x|, the parties compute the max and open only the bits [max > 2^k], i.e. the
 * power-of-two bracket of the global max.
 */
async function featureBracket(
  e: Engine<unknown>,
  p: Partition,
  label: string,
  mine: Table | null,
): Promise<number> {
  const owners = p.owners.filter((o) => o.columns.some((c) => c !== label));
  const maxes = await Promise.all(
    owners.map((o) => {
      let m = 0;
      if (o.party === e.me && mine) for (const v of features(mine, label).data) m = Math.max(m, Math.abs(v));
      return SecretTensor.fromOwner(e, o.party, o.party === e.me ? [m] : null, [1]);
    }),
  );
  const all = e.concat(maxes.map((t) => t.share));
  const m = owners.length > 1 ? (await e.maxArgmax(all, 1, owners.length)).max : all;
  const kmin = -8;
  const kmax = Math.min(40, 60 - e.f);
  const K = kmax - kmin + 1;
  const rep = e.gather(m, new Int32Array(K));
  const thr = BigUint64Array.from({ length: K }, (_, k) => fx(2 ** (kmin + k), e.f));
  // [2^k − max < 0] = [max > 2^k]
  const bits = await e.ltz(e.add(e.neg(rep), e.constant(thr)));
  const opened = toInts((await e.reveal(bits))!);
  const above = opened.reduce((s, b) => s + b, 0);
  return 2 ** (kmin + above);
}

/**
 * Worst-case bounds through one training step (forward, loss gradient, backward, SGD update); also
 * returns the bound on the output layer's logits (under the same parameter bound), which lets the
 * 3-piece sigmoid of the BCE gradient compare on fewer bits.
 */
export function rangeCheck(
  f: number,
  inFeatures: number,
  layers: readonly number[],
  batch: number,
  featureBound: number,
  paramBound: number,
  lr: number,
  loss: 'bce' | 'mse' | 'cross-entropy',
  /** A bound on the per-row loss weights (class weights; default 1). */
  rowWeightBound = 1,
): RangeTracker & { readonly logitBound: number; readonly preActivationBounds: readonly number[] } {
  const r = new RangeTracker(f);
  let logitBound = 0;
  const preActivationBounds: number[] = [];
  let h: Bounded = r.input([batch, inFeatures], featureBound, 'features');
  const acts: Bounded[] = [];
  const weights: Bounded[] = [];
  let inF = inFeatures;
  layers.forEach((out, k) => {
    acts.push(h);
    const w = r.input([inF, out], paramBound, `layer ${k} weight`);
    weights.push(w);
    const z = r.add(
      r.matmul(h, w, `layer ${k} forward x·Wᵀ`),
      r.input([out], paramBound),
      `layer ${k} + bias`,
    );
    logitBound = z.maxAbs;
    if (k < layers.length - 1) preActivationBounds.push(z.maxAbs);
    h = r.monotone(z, `layer ${k} activation`);
    inF = out;
  });
  // loss gradient: |σ(z) − y| ≤ 1 (bce), |softmax − onehot| ≤ 1 (cross-entropy), 2|ŷ − y| (mse); times 1/B
  const gradBound = (loss === 'mse' ? 2 * (h.maxAbs + 1) : 1) * rowWeightBound;
  let g: Bounded = r.scale(
    r.input([batch, layers[layers.length - 1]!], gradBound),
    1 / batch,
    'loss gradient',
  );
  for (let k = layers.length - 1; k >= 0; k--) {
    const x = acts[k]!;
    const gt = { label: 'gᵀ', shape: [g.shape[1]!, g.shape[0]!], maxAbs: g.maxAbs };
    const dW = r.matmul(gt, x, `layer ${k} dW = gᵀ·x`);
    r.scale(dW, lr, `layer ${k} lr·dW`);
    if (k > 0) {
      const wt = { label: 'W', shape: [weights[k]!.shape[1]!, weights[k]!.shape[0]!], maxAbs: paramBound };
      g = r.matmul(g, wt, `layer ${k} dx = g·W`);
    }
  }
  return Object.assign(r, { logitBound, preActivationBounds });
}

function readInit(spec: JobSpec): InitOption {
  const m = spec.model;
  if (m.type === 'onnx') throw bad('ml.train: ONNX models are for inference only');
  const init = m.init;
  if (init.kind === 'zeros') return 'zeros';
  if (init.kind === 'seed') return { seed: init.seed };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(init.file, 'utf8'));
  } catch (e) {
    throw bad(
      `${init.file}: cannot read the initial parameters (${(e as { code?: string }).code ?? 'not JSON'})`,
      {
        file: init.file,
      },
    );
  }
  const v = (json as Record<string, unknown> | null)?.[init.key];
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw bad(`${init.file}: no parameter object under key '${init.key}'`, {
      file: init.file,
      key: init.key,
    });
  return { parameters: v as Record<string, unknown> };
}

function stats(ctx: PartyContext): { rounds: number; bytesSent: number; waitMs: number } {
  return { rounds: ctx.ch.stats.rounds, bytesSent: ctx.ch.stats.bytesSent, waitMs: ctx.ch.stats.waitMs };
}

/** Run a training spec at this party (the body of the `ml.train` job; also used in memory by tests). */
export async function runTrainSpec(
  ctx: PartyContext,
  spec: JobSpec,
  opts: TrainJobOptions = {},
): Promise<Json> {
  if (spec.task !== 'train' || !spec.data || !spec.training)
    throw bad(`${spec.file}: ml.train runs specs with task: train, data and training`);
  const data = spec.data;
  const training = spec.training;
  const model = spec.model;
  if (model.type === 'onnx') throw bad('ml.train: ONNX models are for inference only');
  const parties = spec.members.length;
  if (ctx.n !== processesFor(spec))
    throw new ShareholdError(
      'invalid-argument',
      `${spec.file}: the spec needs ${processesFor(spec)} processes, the job has ${ctx.n}`,
    );
  const setup = await createEngine(spec.scheme.name, ctx, {
    f: spec.fixedPoint.f,
    opRoot: `ml.train/${spec.scheme.name}`,
    // sign hints (rep3): on for the 3-piece sigmoid (round-bound small models such as the logistic
    // regression benchmark); params.signHints overrides. Off by default elsewhere: for the CPU-bound
    // case study their extra offline gates are not yet measured to pay off.
    signHints:
      typeof ctx.params.signHints === 'boolean' ? ctx.params.signHints : ctx.params.sigmoid === 'piecewise3',
    ...(spec.scheme.threshold !== undefined ? { threshold: spec.scheme.threshold } : {}),
    ...(spec.scheme.name === 'additive' ? { prep: spec.scheme.prep ?? 'dealer' } : {}),
    ...(spec.scheme.compare ? { compare: spec.scheme.compare } : {}),
  });
  if (setup.role === 'helper') return setup.run();
  const e = setup.engine;
  const me = ctx.me;
  const phases: Record<string, Json> = {};
  let mark = { t: performance.now(), ...stats(ctx) };
  const mark0 = mark.t;
  const phase = (name: string): void => {
    const now = { t: performance.now(), ...stats(ctx) };
    phases[name] = {
      seconds: (now.t - mark.t) / 1000,
      rounds: now.rounds - mark.rounds,
      bytesSent: now.bytesSent - mark.bytesSent,
      waitSeconds: (now.waitMs - mark.waitMs) / 1000,
    };
    mark = now;
  };

  // 1. my own files only; then the public description of everybody's
  const readMine = async (set: SetName): Promise<Table | null> => {
    const refs = datasetsOf(spec, set, me);
    if (refs.length > 1) throw bad(`${spec.file}: party ${me} holds two ${set} datasets`);
    return refs[0] ? applyLocalPreprocessing(spec, await readDataset(refs[0])) : null;
  };
  let myTrain = await readMine('train');
  let myTest = await readMine('test');
  let myVal = await readMine('validation');
  const parts = await exchangeParts(ctx, parties, {
    train: myTrain ? ownerPart(me, myTrain) : null,
    test: myTest ? ownerPart(me, myTest) : null,
    validation: myVal ? ownerPart(me, myVal) : null,
  });
  const trainP = partitionOf(spec, 'train', parts);
  const testP = data.test.length > 0 ? partitionOf(spec, 'test', parts) : null;
  const valP = (data.validation ?? []).length > 0 ? partitionOf(spec, 'validation', parts) : null;
  if (!trainP.columns.includes(data.label))
    throw bad(`${spec.file}: no training dataset holds '${data.label}'`);
  const inFeatures = trainP.columns.length - 1;
  const featureNames = (p: Partition): string => p.columns.filter((c) => c !== data.label).join(',');
  for (const [what, p] of [
    ['test', testP],
    ['validation', valP],
  ] as const) {
    if (p && featureNames(p) !== featureNames(trainP))
      throw bad(`${spec.file}: the ${what} set's feature columns differ from the training set's`);
    if (p && !p.columns.includes(data.label))
      throw bad(`${spec.file}: no ${what} dataset holds '${data.label}'`);
  }
  const layers = model.type === 'logreg' ? [1] : model.layers;
  const classes = training.loss === 'cross-entropy' ? layers[layers.length - 1]! : null;
  phase('describe');

  // 2. preprocessing
  let featureBound: number;
  if (spec.preprocessing.standardize) {
    const params = await secureStandardization(e, trainP, myTrain, { exclude: [data.label] });
    if (myTrain) myTrain = applyStandardization(myTrain, params);
    if (myTest) myTest = applyStandardization(myTest, params);
    if (myVal) myVal = applyStandardization(myVal, params);
    featureBound = Math.sqrt(Math.max(1, trainP.rows - 1)); // Samuelson: |x − mean| ≤ √(N−1)·std
  } else {
    featureBound = await featureBracket(e, trainP, data.label, myTrain);
  }
  phase('preprocess');

  // 3. range check (public shapes, public bounds)
  const paramBound = opts.paramBound ?? 4;
  const range = rangeCheck(
    e.f,
    inFeatures,
    layers,
    training.batchSize,
    featureBound,
    paramBound,
    training.lr,
    training.loss,
    weighted(spec) ? weightBound(spec) : 1,
  );
  ctx.log(`[ml.train] ${range.report().split('\n').join(' | ')}`);

  // 4. inputs (with class weights: my own weight from my own rows, input with them)
  const isWeighted = weighted(spec);
  let myWeight = 1;
  if (isWeighted && myTrain && myTrain.columns.includes(data.label)) {
    const cw = datasetsOf(spec, 'train', me)[0]?.classWeight ?? training.classWeight;
    if (cw !== undefined) myWeight = ownerClassWeight(cw, labelsOf(myTrain, data.label, null).y);
  }
  const [train, test, val] = await Promise.all([
    // plain SGD: the owners also input lr·x (the first layer's update then needs no truncation)
    shareSet(
      e,
      trainP,
      data.label,
      myTrain,
      classes,
      training.optimizer === 'sgd' ? training.lr : undefined,
      isWeighted ? { mine: myWeight } : null,
    ),
    testP ? shareSet(e, testP, data.label, myTest, classes) : null,
    valP ? shareSet(e, valP, data.label, myVal, classes) : null,
  ]);
  phase('input');
  opts.onInputs?.(performance.now() - mark0);

  // 5. model and training
  const sigmoidMethod = opts.sigmoid ?? 'exact';
  const net: Model<unknown> = mlp(e, {
    inFeatures,
    layers,
    activation: model.type === 'mlp' ? model.activation : 'none',
    output: model.type === 'mlp' ? model.output : 'sigmoid',
    init: readInit(spec),
    sigmoid: sigmoidMethod,
  });
  const lossEach = opts.lossEachEpoch ?? true;
  const t0 = performance.now();
  // checkpoint/resume: an explicit optimizer whose state can be saved and loaded
  const hook = opts.checkpoint;
  let optimizer: Optimizer<unknown> | undefined;
  let startEpoch = 0;
  let earlierLoss: number[] = [];
  let earlierVal: ValidationEpoch[] = [];
  const saves: Promise<void>[] = [];
  if (hook) {
    const ps = net.parameters();
    optimizer =
      training.optimizer === 'adam'
        ? new Adam(ps, {
            lr: training.lr,
            betas: [training.beta1 ?? 0.9, training.beta2 ?? 0.999],
            ...(training.eps !== undefined ? { eps: training.eps } : {}),
          })
        : new SGD(ps, {
            lr: training.lr,
            ...(training.optimizer === 'momentum' ? { momentum: training.momentum ?? 0.9 } : {}),
          });
    const r = hook.resume;
    if (r) {
      ps.forEach((p, i) => {
        if (!(`param.${i}` in r.shares)) throw bad(`checkpoint of epoch ${r.epoch} lacks parameter ${i}`);
        p.value = SecretTensor.fromShare(e, r.shares[`param.${i}`], p.value.shape);
      });
      const tensors: Record<string, SecretTensor<unknown>> = {};
      for (const [k, shape] of Object.entries(r.meta.shapes))
        tensors[k] = SecretTensor.fromShare(e, r.shares[`opt.${k}`], shape);
      optimizer.loadState({ tensors, counters: r.meta.counters });
      startEpoch = r.epoch + 1;
      earlierLoss = [...r.meta.lossPerEpoch];
      earlierVal = [...(r.meta.validation ?? [])];
      ctx.log(`[ml.train] resuming after epoch ${startEpoch}/${training.epochs}`);
    }
  }
  const snapshot = (lossSoFar: number[], valSoFar: ValidationEpoch[]): TrainState => {
    const shares: Record<string, unknown> = {};
    const shapes: Record<string, number[]> = {};
    net.parameters().forEach((p, i) => (shares[`param.${i}`] = p.value.share));
    const st = optimizer!.saveState();
    for (const [k, t] of Object.entries(st.tensors)) {
      shares[`opt.${k}`] = t.share;
      shapes[k] = [...t.shape];
    }
    return {
      shares,
      meta: { counters: { ...st.counters }, shapes, lossPerEpoch: lossSoFar, validation: valSoFar },
    };
  };
  const resumedLoss: number[] = [];
  // a binary task (one logit, bce): precision/recall/F1/AUC from the opened ROC counts
  const binary = training.loss === 'bce' && layers[layers.length - 1] === 1;
  const validation: ValidationEpoch[] = [...earlierVal];
  const validate = async (epoch: number): Promise<ValidationEpoch | undefined> => {
    if (!val) return undefined;
    if (binary) {
      const { loss, metrics: m } = await net.binaryEvaluation(val.x, val.y, {
        loss: true,
        ...(training.validationThresholds !== undefined
          ? { thresholds: defaultThresholds(training.validationThresholds) }
          : {}),
      });
      return {
        epoch,
        loss: loss!,
        accuracy: m.accuracy,
        precision: m.precision,
        recall: m.recall,
        f1: m.f1,
        auc: m.auc,
        rows: m.total,
      };
    }
    const [loss, r] = [await net.loss(val.x, val.target, training.loss), await net.evaluate(val.x, val.y)];
    return { epoch, loss, accuracy: r.accuracy, rows: r.total };
  };
  let lastVal: ValidationEpoch | undefined;
  const { lossPerEpoch: lossRun } = await net.fit(train.x, train.target, {
    epochs: training.epochs - startEpoch,
    epochOffset: startEpoch,
    batchSize: training.batchSize,
    loss: isWeighted ? 'weighted-bce' : training.loss,
    // the checkpoint hook's optimizer (its state is what gets saved and restored), else by name
    optimizer: optimizer ?? training.optimizer,
    lr: training.lr,
    ...(training.momentum !== undefined ? { momentum: training.momentum } : {}),
    ...(training.beta1 !== undefined ? { beta1: training.beta1 } : {}),
    ...(training.beta2 !== undefined ? { beta2: training.beta2 } : {}),
    ...(training.eps !== undefined ? { eps: training.eps } : {}),
    ...(training.shuffle ? { shuffleSeed: training.shuffleSeed ?? 0 } : {}),
    lossEachEpoch: lossEach,
    ...(opts.onStep
      ? {
          onStep: (rel: number, k: number) =>
            opts.onStep!(startEpoch + rel, k + 1, Math.ceil(train.x.shape[0]! / training.batchSize)),
        }
      : {}),
    ...(train.xs ? { scaledInput: train.xs } : {}),
    // every worst-case bound fits (under the assumed parameter bound): the logits are bounded
    ...(range.ok ? { logitBound: range.logitBound, paramBound } : {}),
    // and the hidden layers' pre-activations: narrow ReLU comparisons in the training steps
    ...(range.ok && model.type === 'mlp' && model.activation === 'relu'
      ? { reluBounds: range.preActivationBounds }
      : {}),
    afterEpoch: async (rel) => {
      lastVal = await validate(startEpoch + rel);
      if (lastVal) validation.push(lastVal);
    },
    onEpoch: (rel, l) => {
      const ep = startEpoch + rel;
      const v = lastVal;
      ctx.log(
        `[ml.train] epoch ${ep + 1}/${training.epochs}${l !== undefined ? ` loss ${l.toFixed(6)}` : ''}` +
          (v
            ? ` validation loss ${v.loss.toFixed(4)}` +
              (v.auc !== undefined ? ` auc ${v.auc.toFixed(4)} f1 ${v.f1!.toFixed(4)}` : '') +
              ` acc ${v.accuracy.toFixed(4)}`
            : '') +
          ` ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      opts.onEpoch?.(ep, l, v ? { validation: v } : {});
      if (hook) {
        if (l !== undefined) resumedLoss.push(l);
        const p = hook.epochEnd(
          ep,
          l,
          snapshot([...earlierLoss, ...resumedLoss], [...validation]),
          v ? { validation: v } : {},
        );
        if (p instanceof Promise) {
          p.catch(() => {}); // reported by the Promise.all below, not as an unhandled rejection
          saves.push(p);
        }
      }
    },
  });
  await Promise.all(saves);
  const lossPerEpoch = [...earlierLoss, ...lossRun];
  phase('train');

  // 6. metrics (aggregates only)
  const metrics: Record<string, Json> = { lossPerEpoch };
  if (val) metrics.validation = validation.map((v) => ({ ...v }));
  let testSummary = '';
  if (test && binary) {
    // one logit: the ROC counts give accuracy at p = 1/2 as well (the same decision as `evaluate`)
    const { metrics: m } = await net.binaryEvaluation(test.x, test.y);
    const correct = Math.round(m.accuracy * m.total);
    testSummary =
      `: test accuracy ${m.accuracy.toFixed(4)} (${correct}/${m.total}), precision ${m.precision.toFixed(4)}, ` +
      `recall ${m.recall.toFixed(4)}, f1 ${m.f1.toFixed(4)}, auc ${m.auc.toFixed(4)}`;
    Object.assign(metrics, {
      testAccuracy: m.accuracy,
      testCorrect: correct,
      testRows: m.total,
      test: testMetricsJson(m),
    });
  } else if (test) {
    const r = await net.evaluate(test.x, test.y);
    testSummary = `: test accuracy ${r.accuracy.toFixed(4)} (${r.correct}/${r.total})`;
    Object.assign(metrics, { testAccuracy: r.accuracy, testCorrect: r.correct, testRows: r.total });
  }
  if (opts.trainAccuracy ?? true) {
    const r = await net.evaluate(train.x, train.y);
    Object.assign(metrics, { trainAccuracy: r.accuracy, trainCorrect: r.correct, trainRows: r.total });
  }
  phase('evaluate');

  // 7. output policy
  let out: Json = 'shared';
  if (spec.output.model === 'reveal') {
    const to = spec.output.to.map((m) => spec.members.find((x) => x.name === m)!.index);
    const params = await net.revealParameters(to);
    out = params === null ? 'not-a-recipient' : params;
  }
  phase('output');
  ctx.log(`[ml.train] done${testSummary}`);
  return {
    role: 'compute',
    job: spec.name,
    scheme: spec.scheme.name,
    party: me,
    member: spec.members[me]!.name,
    sigmoid: sigmoidMethod,
    rows: { train: trainP.rows, test: testP?.rows ?? 0, validation: valP?.rows ?? 0 },
    metrics,
    range: { ok: range.ok, featureBound, paramBound, report: range.report() },
    phases,
    model: out,
  };
}

/** The test metrics of a binary model as reported (the opened ROC curve included). */
function testMetricsJson(m: SecureBinaryMetrics): Json {
  return {
    precision: m.precision,
    recall: m.recall,
    f1: m.f1,
    auc: m.auc,
    accuracy: m.accuracy,
    positives: m.positives,
    rows: m.total,
    roc: m.roc.map((r) => [...r]),
  };
}

/** The registered job: params `{ spec: <absolute path>, sigmoid?, lossEachEpoch?, trainAccuracy? }`. */
export async function mlTrainJob(ctx: PartyContext): Promise<Json> {
  const file = ctx.params.spec;
  if (typeof file !== 'string')
    throw new ShareholdError('invalid-argument', 'ml.train needs params.spec (a path)');
  const spec = loadSpec(file);
  const sig = ctx.params.sigmoid;
  if (sig !== undefined && sig !== 'exact' && sig !== 'piecewise3')
    throw new ShareholdError('invalid-argument', `ml.train: sigmoid must be exact or piecewise3`);
  return runTrainSpec(ctx, spec, {
    ...(sig !== undefined ? { sigmoid: sig } : {}),
    ...(typeof ctx.params.lossEachEpoch === 'boolean' ? { lossEachEpoch: ctx.params.lossEachEpoch } : {}),
    ...(typeof ctx.params.trainAccuracy === 'boolean' ? { trainAccuracy: ctx.params.trainAccuracy } : {}),
  });
}

/**
 * Run a training spec with every party in this process over in-memory channels (tests, quick local
 * experiments; `sharehold run --local` uses separate processes over TLS instead). Returns each
 * process's result and channel statistics.
 */
export async function runSpecInMemory(
  spec: JobSpec,
  opts: TrainJobOptions & { onLog?: (party: number, line: string) => void } = {},
): Promise<{ results: Json[]; rounds: number; bytesSent: number }> {
  const n = processesFor(spec);
  const chans = memoryNetwork(n, { timeoutMs: 60_000 });
  try {
    const results = await Promise.all(
      chans.map((ch, me) =>
        runTrainSpec({ ch, me, n, params: {}, log: (line) => opts.onLog?.(me, line) }, spec, opts).finally(
          () => (me < spec.members.length ? ch.close() : undefined),
        ),
      ),
    );
    return {
      results,
      rounds: Math.max(...chans.map((c) => c.stats.rounds)),
      bytesSent: Math.max(...chans.map((c) => c.stats.bytesSent)),
    };
  } finally {
    await Promise.all(chans.map((c) => c.close()));
  }
}
