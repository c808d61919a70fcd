/**
 * A small PyTorch/tfjs-style model API over an engine session (docs/ml.md):
 *
 * ```ts
 * const model = mlp(engine, { inFeatures: 30, layers: [16, 16, 1], activation: 'relu', output: 'sigmoid' });
 * const { lossPerEpoch } = await model.fit(x, y, { epochs: 20, batchSize: 35, lr: 0.05, loss: 'bce' });
 * const p = await model.predict(xTest);              // secret probabilities
 * const { accuracy } = await model.evaluate(xTest, yTest); // only the aggregate count is opened
 * const params = await model.revealParameters([0]);  // only party 0 learns the parameters
 * ```
 *
 * Every party runs the same calls in the same order (the engine's rule). Inputs, targets, outputs and
 * parameters are secret tensors; the only values this module opens are the ones its methods name:
 * the mean loss over a whole set (`loss`, and per epoch in `fit` when asked) and the number of
 * correct predictions (`evaluate`), both to every compute party, and the parameters to the parties
 * given to `revealParameters`.
 *
 * Training uses the explicit-backward modules (src/ml/modules): the network is trained on its
 * logits when the loss includes the output function (BCE-with-logits for a sigmoid output,
 * softmax cross-entropy for a softmax/none output); otherwise the output activation is part of the
 * trained network (e.g. MSE on a sigmoid output).
 */
import { createHash } from 'node:crypto';
import type { Engine } from '../protocols/engine.js';
import { ShareholdError, invalidArgument } from '../errors.js';
import { Prg } from '../math/prg.js';
import { toInts } from '../math/fixed.js';
import { SecretTensor } from '../tensor/tensor.js';
import { PublicTensor } from '../tensor/public.js';
import type { SigmoidMethod } from '../tensor/nonlinear/sigmoid.js';
import { softmax } from '../tensor/nonlinear/softmax.js';
import {
  Adam,
  BCEWithLogitsLoss,
  CrossEntropyLoss,
  Linear,
  MSELoss,
  ReLU,
  SGD,
  Sequential,
  Sigmoid,
  Tanh,
  type Loss,
  type Module,
  type Optimizer,
  type OptimizerState,
  type Parameter,
} from './modules/index.js';
import { fit as fitLoop } from './train.js';
import { WeightedBCEWithLogitsLoss } from './modules/loss.js';
import { secureBinaryMetrics, type SecureBinaryMetrics } from './metrics.js';

export type ActivationName = 'relu' | 'sigmoid' | 'tanh' | 'none';
export type OutputName = ActivationName | 'softmax';
/**
 * 'weighted-bce': BCE with logits and a per-row weight, the target is [N, 2] = (label, weight)
 * (`WeightedBCEWithLogitsLoss`; e.g. class weights each data owner chose for its own rows).
 */
export type LossName = 'bce' | 'mse' | 'cross-entropy' | 'weighted-bce';
export type OptimizerName = 'sgd' | 'momentum' | 'adam';

/** Initial parameters: zeros, PyTorch's default uniform(±1/√in) from a public seed, or given values. */
export type InitOption =
  | 'zeros'
  | { readonly seed: number }
  /** torch state_dict names ('0.weight' [out, in] row-major or nested, '0.bias' [out]). */
  | { readonly parameters: Readonly<Record<string, unknown>> };

export interface MlpConfig {
  readonly inFeatures: number;
  /** Output size of each Linear layer; the last one is the model's output size. */
  readonly layers: readonly number[];
  /** Between layers (default relu). */
  readonly activation?: ActivationName;
  /** After the last layer (default none: logits). */
  readonly output?: OutputName;
  readonly init?: InitOption;
  /** Sigmoid approximation for sigmoid activations/outputs and BCE (default 'exact'). */
  readonly sigmoid?: SigmoidMethod;
}

export interface ModelFitOptions<S> {
  readonly epochs: number;
  readonly batchSize: number;
  /** A loss name, or any `Loss` (then `lossPerEpoch` needs `lossValue`). Default: bce for a sigmoid output, cross-entropy for softmax/none with >1 outputs, else mse. */
  readonly loss?: LossName;
  /** 'sgd' (default), 'momentum', or an optimizer over `model.parameters()`. */
  readonly optimizer?: OptimizerName | Optimizer<S>;
  readonly lr?: number;
  readonly momentum?: number;
  /** Adam's β1, β2 and ε (PyTorch defaults 0.9, 0.999, 1e-8). */
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  /** Compute the mean training loss after every epoch (securely; only the mean is opened). */
  readonly lossEachEpoch?: boolean;
  /** Public seed for a per-epoch public permutation of the rows (default: file order). */
  readonly shuffleSeed?: number;
  /**
   * lr·x, when the data owners input it alongside x (no round, no truncation: each owner scales its
   * own rows in float64). Used with plain SGD only; computed from x (one round) when absent.
   */
  readonly scaledInput?: SecretTensor<S>;
  /**
   * A public bound on |logit| of the output layer during training (e.g. the job's range check under
   * its parameter bound). The BCE gradient's 3-piece sigmoid then compares on fewer bits (rep3:
   * `logitWidth`, one round less per step). Leave it out when nothing bounds the logits.
   */
  readonly logitBound?: number;
  /**
   * The parameter bound the range check assumed for `logitBound`. When the 3-piece sigmoid compares
   * on fewer bits because of it (rep3), every parameter is checked against it after each epoch (one
   * batched comparison; only the number of parameters outside ±paramBound is opened) and the job
   * fails with `fixed-point-range` instead of comparing on too few bits later. The width keeps a
   * factor 8 above the logit bound, which covers the growth within one epoch.
   */
  readonly paramBound?: number;
  /**
   * Public bounds on |pre-activation| of each ReLU (in network order) during training, e.g. the job's
   * range check under `paramBound`. On rep3 and rep4 each ReLU's comparison then reads the sign from
   * `logitWidth(bound)` bits instead of 64 (about 40 % fewer bits at the case study's sizes); the
   * parameters are checked against `paramBound` after every epoch as for `logitBound`. Only the
   * training steps use the narrow widths: evaluation and prediction (other rows, unbounded) compare on
   * all 64 bits.
   */
  readonly reluBounds?: readonly number[];
  /** After every epoch (loss present when `lossEachEpoch`). */
  readonly onEpoch?: (epoch: number, loss: number | undefined) => void;
  /**
   * Awaited after every epoch, before `onEpoch` (e.g. secure metrics on a validation set; every
   * party makes the same calls).
   */
  readonly afterEpoch?: (epoch: number, loss: number | undefined) => Promise<void>;
  /**
   * The number of the first epoch of this call (a resumed run): the public row order of epoch k is
   * the permutation of epoch `epochOffset + k`, so a resumed run visits the rows as an uninterrupted one.
   */
  readonly epochOffset?: number;
  readonly onStep?: (epoch: number, batch: number) => void;
}

export interface EvalResult {
  readonly correct: number;
  readonly total: number;
  readonly accuracy: number;
}

/** A named trainable parameter ('0.weight', '0.bias', '2.weight', …, torch state_dict names). */
export interface NamedParameter<S> {
  readonly name: string;
  readonly shape: readonly number[];
  readonly param: Parameter<S>;
}

function parseNested(v: unknown, name: string, shape: readonly number[]): Float64Array {
  const flat: number[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) for (const e of x) walk(e);
    else if (typeof x === 'number' && Number.isFinite(x)) flat.push(x);
    else
      throw new ShareholdError('input-invalid', `initial parameter ${name}: not an array of finite numbers`);
  };
  walk(v);
  const want = shape.reduce((a, b) => a * b, 1);
  if (flat.length !== want)
    throw new ShareholdError(
      'input-invalid',
      `initial parameter ${name}: ${flat.length} values, shape [${shape.join(', ')}] needs ${want}`,
      { name },
    );
  return Float64Array.from(flat);
}

/** PyTorch's default Linear init, uniform(−1/√in, 1/√in) for weight and bias, from a public seed. */
function seededUniform(seed: number, name: string, count: number, bound: number): Float64Array {
  const key = createHash('sha256').update(`sharehold-init:${seed}:${name}`).digest().subarray(0, 16);
  const w = new Prg(new Uint8Array(key)).words(2 * count);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const u = (w[2 * i]! * 2 ** 21 + (w[2 * i + 1]! >>> 11)) / 2 ** 53;
    out[i] = (2 * u - 1) * bound;
  }
  return out;
}

/** A public permutation of [0, n) from a public seed (Fisher–Yates). */
export function publicPermutation(seed: number, epoch: number, n: number): Int32Array {
  const key = createHash('sha256').update(`sharehold-shuffle:${seed}:${epoch}`).digest().subarray(0, 16);
  const w = new Prg(new Uint8Array(key)).words(n);
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = w[i]! % (i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/**
 * The first Linear layer of a network: the same parameters and forward as `lin`, but its backward
 * computes only dW = gᵀ·x and db = Σ g (the gradient w.r.t. the data is not needed), saving the
 * B × in product g·W and its truncations. Returns a zero tensor of the input's shape (local).
 */
class InputLinear<S> implements Module<S> {
  private input: SecretTensor<S> | null = null;
  /**
   * With plain SGD: lr·[x, 1] for the current batch (computed once for the whole training set before
   * training). The layer's gradients are then already multiplied by lr (`PrescaledSGD`).
   */
  scaledInput: SecretTensor<S> | null = null;
  /** The input gradient `backward` returns (zeros), kept for the next step's batch of that shape. */
  private zero: SecretTensor<S> | null = null;
  constructor(readonly lin: Linear<S>) {}

  async forward(x: SecretTensor<S>): Promise<SecretTensor<S>> {
    this.input = x;
    return this.lin.forward(x);
  }

  async backward(g: SecretTensor<S>): Promise<SecretTensor<S>> {
    const x = this.input;
    if (x === null) throw new Error('Linear.backward called before forward');
    const xs = this.scaledInput;
    if (xs !== null) {
      // gᵀ·(lr·[x, 1]) = lr·[dW | db] in one product: the update itself, no lr truncation later
      const P = await g.transpose().matmul(xs);
      const inF = this.lin.inFeatures;
      this.lin.weight.accumulate(P.slice(1, 0, inF));
      this.lin.bias.accumulate(P.slice(1, inF, inF + 1).reshape([this.lin.outFeatures]));
    } else {
      const dW = await g.transpose().matmul(x);
      this.lin.weight.accumulate(dW);
      this.lin.bias.accumulate(g.sum(0));
    }
    // a zero tensor of the input's shape (nobody computes with it): made once per shape
    const z = this.zero;
    if (z !== null && z.shape.length === x.shape.length && z.shape.every((d, i) => d === x.shape[i]))
      return z;
    this.zero = SecretTensor.fromShare(x.engine, x.engine.constant(new BigUint64Array(x.size)), x.shape);
    return this.zero;
  }

  parameters(): Parameter<S>[] {
    return this.lin.parameters();
  }
}

/**
 * Plain SGD where some parameters' gradients arrive already multiplied by lr (the first layer's,
 * from lr·[x, 1]): their update is a local subtraction; the others get one truncated product by lr.
 * Saves the update's truncation round for logistic regression (every parameter is in the first layer).
 */
class PrescaledSGD<S> implements Optimizer<S> {
  constructor(
    readonly params: readonly Parameter<S>[],
    readonly lr: number,
    readonly prescaled: ReadonlySet<Parameter<S>>,
  ) {}

  async step(): Promise<void> {
    await Promise.all(
      this.params.map(async (p) => {
        if (p.grad === null) return;
        p.value = p.value.sub(this.prescaled.has(p) ? p.grad : await p.grad.mulScalar(this.lr));
      }),
    );
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  /** Plain SGD has no state. */
  saveState(): OptimizerState<S> {
    return { tensors: {}, counters: {} };
  }

  loadState(): void {}
}

function activationModule<S>(a: ActivationName, method: SigmoidMethod): Module<S> | null {
  if (a === 'relu') return new ReLU<S>();
  if (a === 'sigmoid') return new Sigmoid<S>(method);
  if (a === 'tanh') return new Tanh<S>(method);
  return null;
}

/** Offline-material counters some engines expose (rep3, rep4). */
interface PrepCounters {
  readonly triplesGenerated: number;
  readonly daBitsGenerated: number;
  /** rep3 with sign hints: the triples of `matmulFixedBias`, from a pool of their own. */
  readonly signTriplesGenerated?: number;
  /**
   * Items handed out (rep3, rep4): the first step's on-demand generation may round up to a pool's
   * minimum batch (daBits: 1024), so the plan counts what was used, not what was generated.
   */
  readonly triplesTaken?: number;
  readonly daBitsTaken?: number;
  readonly signTriplesTaken?: number;
}

function counters(e: unknown): PrepCounters | null {
  const c = e as Partial<PrepCounters>;
  return typeof c.triplesGenerated === 'number' && typeof c.daBitsGenerated === 'number'
    ? (c as PrepCounters)
    : null;
}

/**
 * Batches the offline phase of training: engines generate truncation and comparison material on
 * demand, one small interactive batch per operation, which adds rounds to every step. Where the
 * engine reports what it generated (rep3, rep4), the first step is measured and the material for the
 * following steps is generated in chunks of at most `OFFLINE_CHUNK_ITEMS` items (so a 500,000-row
 * epoch never holds more than one chunk, ~100 MB per party, instead of the whole epoch's ~10^8
 * triples): before every chunk of steps, the material for that many steps. Everything else (the
 * per-epoch loss, validation) draws on demand. Other engines keep generating on demand. The plan
 * depends only on step counts, so every party makes the same calls in the same order.
 */
export const OFFLINE_CHUNK_ITEMS = 1 << 21;

class OfflinePlanner<S> {
  private readonly c: PrepCounters | null;
  private start: [number, number, number] = [0, 0, 0];
  private perStep: [number, number, number] | null = null;
  /** Steps still covered by the last chunk generated. */
  private covered = 0;

  /** Where the chunk in use ends: (epoch, first step not covered). */
  private end: [number, number] = [0, 0];

  constructor(
    private readonly engine: Engine<S>,
    private readonly batches: number,
    private readonly epochs = 1,
  ) {
    this.c = counters(engine);
  }

  /** Steps in a chunk of at most `steps`. */
  private chunkSteps(steps: number): number {
    const [t, d, h] = this.perStep!;
    return Math.max(1, Math.min(steps, Math.floor(OFFLINE_CHUNK_ITEMS / Math.max(1, t, d, h))));
  }

  /**
   * Where the engine can generate ahead (rep3 `prefetch`): start the chunk after the one just made,
   * so that its offline rounds overlap this chunk's steps instead of stalling the next one.
   */
  private prefetchNext(): void {
    const e = this.engine;
    if (!e.prefetch) return;
    let [epoch, k] = this.end;
    if (k >= this.batches) [epoch, k] = [epoch + 1, 0];
    if (epoch >= this.epochs) return;
    const n = this.chunkSteps(this.batches - k);
    const [t, d, h] = this.perStep!;
    // slack for on-demand draws between chunks (the per-epoch parameter guard, a validation pass),
    // so that they do not leave the prefetched batch short of the chunk it is for
    const ahead = (v: number): number => v + Math.ceil(v / 16) + 1024;
    e.prefetch('trunc', ahead(t * n));
    e.prefetch('compare', ahead(d * n));
    if (h > 0) e.prefetch('truncSign', ahead(h * n));
  }

  /** What the step used: items taken from the pools where the engine counts them, else generated. */
  private now(): [number, number, number] {
    const c = this.c!;
    return c.triplesTaken !== undefined && c.daBitsTaken !== undefined
      ? [c.triplesTaken, c.daBitsTaken, c.signTriplesTaken ?? 0]
      : [c.triplesGenerated, c.daBitsGenerated, c.signTriplesGenerated ?? 0];
  }

  /** Generate the material for the next chunk of steps (at most `steps`). */
  private async chunk(epoch: number, from: number): Promise<void> {
    const [t, d, h] = this.perStep!;
    const n = this.chunkSteps(this.batches - from);
    this.covered = n;
    this.end = [epoch, from + n];
    await Promise.all([
      this.engine.preprocess('trunc', t * n),
      this.engine.preprocess('compare', d * n),
      ...(h > 0 ? [this.engine.preprocess('truncSign', h * n)] : []),
    ]);
    this.prefetchNext();
  }

  async epochStart(epoch: number): Promise<void> {
    if (!this.c) return;
    if (epoch === 0) this.start = this.now();
    this.covered = 0;
    if (this.perStep) await this.chunk(epoch, 0);
  }

  async afterStep(epoch: number, k: number): Promise<void> {
    if (!this.c) return;
    if (epoch === 0 && k === 0) {
      const n = this.now();
      this.perStep = [n[0] - this.start[0], n[1] - this.start[1], n[2] - this.start[2]];
    } else if (this.covered > 0) this.covered--;
    const rest = this.batches - 1 - k;
    if (rest > 0 && this.covered === 0) await this.chunk(epoch, k + 1);
  }
}

export class Model<S> {
  /** The network trained by `fit` (without the output function when the loss includes it). */
  readonly net: Sequential<S>;
  readonly named: readonly NamedParameter<S>[];

  constructor(
    readonly engine: Engine<S>,
    readonly inFeatures: number,
    readonly layers: readonly number[],
    readonly activation: ActivationName,
    readonly output: OutputName,
    readonly sigmoidMethod: SigmoidMethod,
    init: InitOption,
  ) {
    const mods: Module<S>[] = [];
    const named: NamedParameter<S>[] = [];
    let inF = inFeatures;
    layers.forEach((outF, k) => {
      const idx = mods.length;
      const wn = `${idx}.weight`;
      const bn = `${idx}.bias`;
      let weight: Float64Array | undefined;
      let bias: Float64Array | undefined;
      if (init !== 'zeros' && 'seed' in init) {
        const bound = 1 / Math.sqrt(inF);
        weight = seededUniform(init.seed, wn, outF * inF, bound);
        bias = seededUniform(init.seed, bn, outF, bound);
      } else if (init !== 'zeros') {
        const p = init.parameters;
        if (!(wn in p) || !(bn in p))
          throw new ShareholdError('input-invalid', `initial parameters: ${wn} and ${bn} are required`, {
            names: Object.keys(p),
          });
        weight = parseNested(p[wn], wn, [outF, inF]);
        bias = parseNested(p[bn], bn, [outF]);
      }
      const lin = Linear.create(engine, inF, outF, {
        ...(weight ? { weight } : {}),
        ...(bias ? { bias } : {}),
      });
      // the first layer's input gradient is never used: skip its product (the largest one in a
      // wide-input model: B × in outputs and as many truncations)
      mods.push(k === 0 ? new InputLinear(lin) : lin);
      named.push(
        { name: wn, shape: [outF, inF], param: lin.weight },
        { name: bn, shape: [outF], param: lin.bias },
      );
      if (k < layers.length - 1) {
        const a = activationModule<S>(activation, sigmoidMethod);
        if (a) mods.push(a);
      }
      inF = outF;
    });
    this.net = new Sequential(...mods);
    this.named = named;
    this.trainNet = this.net;
  }

  /** The trained network: `net`, plus the output activation when the loss does not include it. */
  private trainNet: Sequential<S>;

  get outFeatures(): number {
    return this.layers[this.layers.length - 1]!;
  }

  parameters(): Parameter<S>[] {
    return this.named.map((p) => p.param);
  }

  /** The loss `fit` uses by default for this output. */
  defaultLoss(): LossName {
    if (this.output === 'sigmoid') return 'bce';
    if ((this.output === 'softmax' || this.output === 'none') && this.outFeatures > 1) return 'cross-entropy';
    return 'mse';
  }

  /** Whether `loss` is computed on the logits (the output function folded into the loss). */
  private onLogits(loss: LossName): boolean {
    if (loss === 'bce' || loss === 'weighted-bce') return this.output === 'sigmoid' || this.output === 'none';
    if (loss === 'cross-entropy') return this.output === 'softmax' || this.output === 'none';
    return this.output === 'none';
  }

  private lossFn(loss: LossName, logitBound?: number): Loss<S> {
    if (loss === 'weighted-bce') return new WeightedBCEWithLogitsLoss<S>(this.sigmoidMethod);
    if (loss === 'bce')
      return new BCEWithLogitsLoss<S>(
        this.sigmoidMethod,
        logitBound === undefined ? 64 : logitWidth(logitBound, this.engine.f),
      );
    if (loss === 'cross-entropy') return new CrossEntropyLoss<S>();
    return new MSELoss<S>();
  }

  private netFor(loss: LossName): Sequential<S> {
    if (this.onLogits(loss)) return this.net;
    if (loss !== 'mse')
      throw invalidArgument(
        `loss ${loss} needs ${loss === 'bce' ? 'a sigmoid' : 'a softmax or none'} output`,
      );
    if (this.output === 'softmax') throw invalidArgument('mse on a softmax output is not supported');
    const a = activationModule<S>(this.output, this.sigmoidMethod);
    return a ? new Sequential(...this.net.layers, a) : this.net;
  }

  /**
   * Train on x [N, in] and targets y ([N, 1] for bce/mse, one-hot [N, C] for cross-entropy).
   * Returns the mean training loss after each epoch when `lossEachEpoch` (opened to every compute
   * party; nothing else is opened).
   */
  async fit(
    x: SecretTensor<S>,
    y: SecretTensor<S>,
    opts: ModelFitOptions<S>,
  ): Promise<{ lossPerEpoch: number[] }> {
    const lossName = opts.loss ?? this.defaultLoss();
    this.trainNet = this.netFor(lossName);
    const loss = this.lossFn(lossName, opts.logitBound);
    let opt: Optimizer<S>;
    let aux: SecretTensor<S> | undefined;
    const first = this.net.layers[0];
    if (typeof opts.optimizer === 'object') opt = opts.optimizer;
    else if ((opts.optimizer ?? 'sgd') === 'sgd' && opts.lr !== undefined && first instanceof InputLinear) {
      // lr·[x, 1] once for the whole set (given by the data owners, or one round), so the first
      // layer's update needs no truncation
      const N = x.shape[0]!;
      const lrCol = SecretTensor.fromPublic(
        this.engine,
        new PublicTensor(new Float64Array(N).fill(opts.lr), [N, 1]),
      );
      const xs = opts.scaledInput ?? (await x.mulScalar(opts.lr));
      if (xs.ndim !== 2 || xs.shape[0] !== N || xs.shape[1] !== x.shape[1])
        throw invalidArgument(`fit: scaledInput has shape [${xs.shape}], x has [${x.shape}]`);
      aux = SecretTensor.concat([xs, lrCol], 1);
      opt = new PrescaledSGD(this.parameters(), opts.lr, new Set(first.parameters()));
    } else {
      const name = opts.optimizer ?? 'sgd';
      if (opts.lr === undefined) throw invalidArgument('fit: lr is required with a named optimizer');
      opt =
        name === 'adam'
          ? new Adam(this.parameters(), {
              lr: opts.lr,
              betas: [opts.beta1 ?? 0.9, opts.beta2 ?? 0.999],
              ...(opts.eps !== undefined ? { eps: opts.eps } : {}),
            })
          : new SGD(this.parameters(), {
              lr: opts.lr,
              ...(name === 'momentum' ? { momentum: opts.momentum ?? 0.9 } : {}),
            });
    }
    // the narrowed comparison is in use: rep3, the 3-piece sigmoid in the bce gradient, a logit bound
    const narrowed =
      this.engine.scheme === 'rep3' &&
      this.sigmoidMethod === 'piecewise3' &&
      lossName === 'bce' &&
      opts.logitBound !== undefined &&
      logitWidth(opts.logitBound, this.engine.f) < 64;
    // narrow ReLU comparisons in the training steps, from proved pre-activation bounds
    const relus = this.relus();
    const widths =
      opts.reluBounds !== undefined &&
      opts.paramBound !== undefined &&
      opts.reluBounds.length === relus.length &&
      (this.engine.scheme === 'rep3' || this.engine.scheme === 'rep4')
        ? opts.reluBounds.map((b) => logitWidth(b, this.engine.f))
        : relus.map(() => 64);
    const reluNarrowed = widths.some((w) => w < 64);
    const guard = narrowed || reluNarrowed ? opts.paramBound : undefined;
    relus.forEach((r, i) => (r.width = widths[i]!));
    try {
      return await this.fitWith(x, y, opts, lossName, loss, opt, aux, first, guard, narrowed);
    } finally {
      for (const r of relus) r.width = 64;
    }
  }

  private async fitWith(
    x: SecretTensor<S>,
    y: SecretTensor<S>,
    opts: ModelFitOptions<S>,
    lossName: LossName,
    loss: Loss<S>,
    opt: Optimizer<S>,
    aux: SecretTensor<S> | undefined,
    first: Module<S> | undefined,
    guard: number | undefined,
    narrowed: boolean,
  ): Promise<{ lossPerEpoch: number[] }> {
    const lossPerEpoch: number[] = [];
    const prep = new OfflinePlanner(this.engine, Math.ceil(x.shape[0]! / opts.batchSize), opts.epochs);
    await fitLoop(this.trainNet, loss, opt, x, y, {
      batchSize: opts.batchSize,
      epochs: opts.epochs,
      ...(opts.onStep ? { onStep: opts.onStep } : {}),
      ...(opts.shuffleSeed !== undefined
        ? {
            order: (epoch: number) =>
              publicPermutation(opts.shuffleSeed!, (opts.epochOffset ?? 0) + epoch, x.shape[0]!),
          }
        : {}),
      onEpochStart: (epoch) => prep.epochStart(epoch),
      ...(aux && first instanceof InputLinear
        ? { aux, onBatch: (a: SecretTensor<S>) => (first.scaledInput = a) }
        : {}),
      afterStep: (epoch, k) => prep.afterStep(epoch, k),
      onEpochEnd: async (epoch) => {
        if (guard !== undefined) {
          const outside = await this.parametersOutside(guard);
          if (outside > 0)
            throw new ShareholdError(
              'fixed-point-range',
              `after epoch ${epoch + 1}, ${outside} parameter(s) left ±${guard}, the bound the range check ` +
                `assumed for the narrow comparisons of ` +
                (narrowed
                  ? `the 3-piece sigmoid; rerun with sigmoid: exact, or `
                  : `the ReLUs; rerun with `) +
                `a larger parameter bound`,
              { epoch, outside, bound: guard },
            );
        }
        let l: number | undefined;
        if (opts.lossEachEpoch) {
          l = await this.loss(x, y, lossName);
          lossPerEpoch.push(l);
        }
        await opts.afterEpoch?.(epoch, l);
        opts.onEpoch?.(epoch, l);
      },
    });
    return { lossPerEpoch };
  }

  /**
   * How many parameters lie outside ±bound: one batched comparison on every parameter; only that
   * count is opened (to every compute party).
   */
  async parametersOutside(bound: number): Promise<number> {
    const e = this.engine;
    const flat = e.concat(this.named.map((p) => p.param.value.share));
    const n = e.length(flat);
    const minusB = new BigUint64Array(n).fill(BigInt.asUintN(64, -BigInt(Math.round(bound * 2 ** e.f))));
    // [p − B < 0] and [−p − B < 0] are both 1 inside the bound
    const inside = await e.ltz(e.concat([e.addPublic(flat, minusB), e.addPublic(e.neg(flat), minusB)]));
    const count = SecretTensor.fromShare(e, inside, [2 * n]).sum();
    const v = await e.reveal(count.share);
    return 2 * n - toInts(v!)[0]!;
  }

  /** The network's ReLU modules, in order. */
  private relus(): ReLU<S>[] {
    return this.net.layers.filter((l): l is ReLU<S> => l instanceof ReLU);
  }

  /** Logits (the network without its output function). */
  async logits(x: SecretTensor<S>): Promise<SecretTensor<S>> {
    // the rows evaluated here have no proved bound: any ReLU narrowed for training compares on 64 bits
    const relus = this.relus().filter((r) => r.width < 64);
    const widths = relus.map((r) => r.width);
    for (const r of relus) r.width = 64;
    try {
      return await this.net.forward(x);
    } finally {
      relus.forEach((r, i) => (r.width = widths[i]!));
    }
  }

  /** Secret predictions: the network and its output function (sigmoid, softmax, tanh, relu or none). */
  async predict(x: SecretTensor<S>): Promise<SecretTensor<S>> {
    const z = await this.logits(x);
    if (this.output === 'softmax') return z.mapAlongAxis(softmax, -1);
    const a = activationModule<S>(this.output, this.sigmoidMethod);
    return a ? a.forward(z) : z;
  }

  /** Mean loss over a whole set; only the mean is opened (to every compute party). */
  async loss(x: SecretTensor<S>, y: SecretTensor<S>, kind: LossName = this.defaultLoss()): Promise<number> {
    const pred = this.onLogits(kind) ? await this.logits(x) : await this.predict(x);
    const v = await this.lossFn(kind).loss!(pred, y).then((t) => t.reveal());
    return v![0]!;
  }

  /**
   * Number of correct predictions on (x, labels [N, 1] class ids), computed on shares; only the count
   * is opened (to every compute party). Binary models predict 1 iff the logit ≥ 0, multiclass the
   * argmax of the logits (ties: the engine's argmax).
   */
  async evaluate(x: SecretTensor<S>, labels: SecretTensor<S>): Promise<EvalResult> {
    const e = this.engine;
    const z = await this.logits(x);
    const N = x.shape[0]!;
    const cls =
      this.outFeatures === 1
        ? await e.drelu(z.share)
        : (await e.maxArgmax(z.share, N, this.outFeatures)).argmax;
    const hit = await e.eq(e.mulScalar(cls, 1n << BigInt(e.f)), labels.share);
    const count = SecretTensor.fromShare(e, hit, [N]).sum();
    const v = await e.reveal(count.share);
    const correct = toInts(v!)[0]!;
    return { correct, total: N, accuracy: correct / N };
  }

  /**
   * A binary model (one output logit) on a secret-shared set: the logits once, then precision,
   * recall, F1 and accuracy at p = 1/2 (logit 0) and the ROC AUC at the thresholds of
   * `secureBinaryMetrics`, and, when asked, the mean unweighted BCE (log loss) on the same logits.
   * Opened to every compute party: the 2K + 1 counts of the ROC curve and the mean loss; nothing else.
   */
  async binaryEvaluation(
    x: SecretTensor<S>,
    labels: SecretTensor<S>,
    opts: { loss?: boolean; thresholds?: readonly number[] } = {},
  ): Promise<{ loss: number | undefined; metrics: SecureBinaryMetrics }> {
    if (this.outFeatures !== 1)
      throw invalidArgument(`binaryEvaluation: the model has ${this.outFeatures} outputs, not one logit`);
    const z = await this.logits(x);
    // one after the other: two multi-round chains issued concurrently would reserve their later
    // operation ids in an order that depends on message timing, differently at each party
    const lossT = opts.loss ? await this.lossFn('bce').loss!(z, labels).then((t) => t.reveal()) : null;
    const metrics = await secureBinaryMetrics(this.engine, z.share, labels.share, {
      ...(opts.thresholds ? { thresholds: opts.thresholds } : {}),
    });
    return { loss: lossT ? lossT[0]! : undefined, metrics };
  }

  /** Open every parameter to the parties in `to` (others get null); torch state_dict names. */
  async revealParameters(
    to: readonly number[],
  ): Promise<Record<string, { shape: number[]; values: number[] }> | null> {
    const opened = await Promise.all(this.named.map((p) => p.param.value.reveal(to)));
    if (opened.some((v) => v === null)) return null;
    const out: Record<string, { shape: number[]; values: number[] }> = {};
    this.named.forEach((p, k) => (out[p.name] = { shape: [...p.shape], values: [...opened[k]!] }));
    return out;
  }
}

/**
 * The comparison width for logits bounded by |z| ≤ bound at f fractional bits: the 3-piece sigmoid
 * compares z ± 1/2, so (bound + 1/2)·2^f must stay below 2^(k−1); k keeps a factor 8 of margin on
 * top and is raised to 33 when smaller (rep3's carry tree has 5 levels for every k ≤ 33 — over k − 2
 * positions without a sign hint, k − 1 with one — so the extra bits cost nothing in rounds). 64 (no
 * narrowing) when the bound is not finite or too large.
 */
export function logitWidth(bound: number, f: number): number {
  if (!Number.isFinite(bound) || bound < 0) return 64;
  const k = Math.ceil(Math.log2((bound + 0.5) * 2 ** f)) + 1 + 3;
  return k >= 64 ? 64 : Math.max(33, k);
}

/** A multi-layer perceptron (Linear layers with `activation` between them). */
export function mlp<S>(engine: Engine<S>, cfg: MlpConfig): Model<S> {
  if (!Number.isInteger(cfg.inFeatures) || cfg.inFeatures < 1)
    throw invalidArgument('mlp: inFeatures must be ≥ 1');
  if (cfg.layers.length === 0 || cfg.layers.some((l) => !Number.isInteger(l) || l < 1))
    throw invalidArgument('mlp: layers must be positive integers');
  return new Model(
    engine,
    cfg.inFeatures,
    cfg.layers,
    cfg.activation ?? 'relu',
    cfg.output ?? 'none',
    cfg.sigmoid ?? 'exact',
    cfg.init ?? 'zeros',
  );
}

/** Logistic regression: one Linear(in, 1) with a sigmoid output. */
export function logreg<S>(
  engine: Engine<S>,
  cfg: { readonly inFeatures: number; readonly init?: InitOption; readonly sigmoid?: SigmoidMethod },
): Model<S> {
  return mlp(engine, { ...cfg, layers: [1], output: 'sigmoid' });
}
