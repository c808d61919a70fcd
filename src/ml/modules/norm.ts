/**
 * BatchNorm1d / BatchNorm2d with running statistics, and Dropout.
 *
 * BatchNorm (PyTorch semantics of eval mode): y = (x − μ)·γ/√(σ² + eps) + β per channel (axis 1),
 * with the running mean μ and variance σ² given. Batch statistics are not computed: training mode
 * also uses the running statistics (a frozen BatchNorm), so `train()`/`eval()` do not change it.
 * Public running statistics (`create`): 1/√(σ² + eps) is computed in plaintext and encoded (≤ ulp/2);
 * secret ones (the constructor with secret tensors, e.g. from a model owner): `rsqrt` under MPC once
 * (src/tensor/nonlinear/sqrt.ts, relative error ≤ 2·10^-3, input range σ² + eps ∈ [2^-12, 2^14), 17
 * rounds), cached. Forward: scale = γ·invstd (one product), y = (x − μ)·scale + β (one product): 2
 * rounds, ≤ 2 ulp + |x − μ|·|scale error|. Backward (the affine map): dx = g·scale and
 * x̂ = (x − μ)·invstd together (one round), dγ = Σ g·x̂ (one round), dβ = Σ g (local, exact).
 *
 * Dropout(p): eval mode is the identity. Training mode multiplies by a mask m/(1 − p), m ∈ {0, 1}
 * Bernoulli(1 − p), as PyTorch (inverted dropout). The mask is PUBLIC: every party expands the same
 * public 16-byte seed with the AES-CTR PRG (src/math/prg.ts) in the same order, so all parties (and
 * anyone who knows the seed) know which units were dropped; the values stay secret. A mask scale
 * 1/(1 − p) that is an integer (p = 1/2 → 2) makes the product exact and local; otherwise one
 * truncation (≤ 1 ulp + |x|·ulp/2). Backward multiplies g by the same mask.
 */
import { PublicTensor } from '../../tensor/public.js';
import { SecretTensor } from '../../tensor/tensor.js';
import { rsqrt } from '../../tensor/nonlinear/sqrt.js';
import { Prg, SEED_BYTES } from '../../math/prg.js';
import type { Engine } from '../../protocols/engine.js';
import { invalidArgument } from '../../errors.js';
import { type Module, Parameter, noForward } from './module.js';

export interface BatchNormInit {
  /** Public initial γ [C] (default ones). */
  readonly weight?: ArrayLike<number>;
  /** Public initial β [C] (default zeros). */
  readonly bias?: ArrayLike<number>;
  /** Public running mean [C] (default zeros). */
  readonly runningMean?: ArrayLike<number>;
  /** Public running variance [C] (default ones). */
  readonly runningVar?: ArrayLike<number>;
  readonly eps?: number;
}

type Stat<S> = SecretTensor<S> | PublicTensor;

abstract class BatchNormBase<S> implements Module<S> {
  readonly weight: Parameter<S>;
  readonly bias: Parameter<S>;
  training = true;
  private invstd: Stat<S> | null = null;
  private cache: { x: SecretTensor<S>; xc: SecretTensor<S>; scale: SecretTensor<S> } | null = null;

  constructor(
    weight: SecretTensor<S>,
    bias: SecretTensor<S>,
    readonly runningMean: Stat<S>,
    readonly runningVar: Stat<S>,
    readonly eps = 1e-5,
  ) {
    const C = weight.shape[0];
    for (const [name, t] of [
      ['weight', weight],
      ['bias', bias],
      ['runningMean', runningMean],
      ['runningVar', runningVar],
    ] as const)
      if (t.shape.length !== 1 || t.shape[0] !== C)
        throw invalidArgument(`BatchNorm: ${name} must have shape [${C}], got [${t.shape}]`);
    this.weight = new Parameter(weight, 'weight');
    this.bias = new Parameter(bias, 'bias');
  }

  protected abstract get name(): string;
  protected abstract checkInput(shape: readonly number[]): void;

  get numFeatures(): number {
    return this.weight.value.shape[0]!;
  }

  train(): void {
    this.training = true;
  }

  eval(): void {
    this.training = false;
  }

  /** [C] viewed as [1, C, 1, …] for an input of rank nd. */
  private view<T extends Stat<S>>(t: T, nd: number): T {
    const shape = [1, this.numFeatures, ...new Array<number>(nd - 2).fill(1)];
    return (t instanceof SecretTensor ? t.reshape(shape) : new PublicTensor(t.data, shape)) as T;
  }

  private async invStd(): Promise<Stat<S>> {
    if (this.invstd !== null) return this.invstd;
    const v = this.runningVar;
    if (v instanceof PublicTensor) {
      this.invstd = new PublicTensor(
        v.data.map((s) => 1 / Math.sqrt(s + this.eps)),
        v.shape,
      );
    } else {
      this.invstd = await v.add(this.eps).mapElementwise(rsqrt);
    }
    return this.invstd;
  }

  async forward(x: SecretTensor<S>): Promise<SecretTensor<S>> {
    this.checkInput(x.shape);
    const nd = x.ndim;
    const inv = await this.invStd();
    const scale = await this.weight.value.mul(inv); // γ·invstd
    const xc = x.sub(this.view(this.runningMean, nd));
    this.cache = { x, xc, scale };
    return (await xc.mul(this.view(scale, nd))).add(this.view(this.bias.value, nd));
  }

  async backward(g: SecretTensor<S>): Promise<SecretTensor<S>> {
    const c = this.cache;
    if (c === null) throw noForward(this.name);
    const nd = c.x.ndim;
    const inv = await this.invStd();
    const [dx, xhat] = await Promise.all([g.mul(this.view(c.scale, nd)), c.xc.mul(this.view(inv, nd))]);
    const gx = await g.mul(xhat);
    this.weight.accumulate(sumBut1(gx));
    this.bias.accumulate(sumBut1(g));
    return dx;
  }

  parameters(): Parameter<S>[] {
    return [this.weight, this.bias];
  }
}

/** Sum over every axis except 1 (the channel axis): [N, C, …] → [C]. Local. */
function sumBut1<S>(t: SecretTensor<S>): SecretTensor<S> {
  const [n, c] = t.shape as [number, number];
  const rest = t.size / (n * c);
  return t.reshape([n, c, rest]).sum(2).sum(0);
}

function bnParts<S>(
  engine: Engine<S>,
  C: number,
  init: BatchNormInit,
): [SecretTensor<S>, SecretTensor<S>, PublicTensor, PublicTensor] {
  const pub = (v: ArrayLike<number> | undefined, d: number): PublicTensor =>
    new PublicTensor(v ?? new Float64Array(C).fill(d), [C]);
  return [
    SecretTensor.fromPublic(engine, pub(init.weight, 1)),
    SecretTensor.fromPublic(engine, pub(init.bias, 0)),
    pub(init.runningMean, 0),
    pub(init.runningVar, 1),
  ];
}

/** BatchNorm over [N, C] or [N, C, L] (channel axis 1). */
export class BatchNorm1d<S> extends BatchNormBase<S> {
  protected get name(): string {
    return 'BatchNorm1d';
  }

  protected checkInput(shape: readonly number[]): void {
    if ((shape.length !== 2 && shape.length !== 3) || shape[1] !== this.numFeatures)
      throw invalidArgument(`BatchNorm1d(${this.numFeatures}) wants [N, C] or [N, C, L], got [${shape}]`);
  }

  static create<S>(engine: Engine<S>, numFeatures: number, init: BatchNormInit = {}): BatchNorm1d<S> {
    return new BatchNorm1d(...bnParts(engine, numFeatures, init), init.eps ?? 1e-5);
  }
}

/** BatchNorm over [N, C, H, W] (channel axis 1). */
export class BatchNorm2d<S> extends BatchNormBase<S> {
  protected get name(): string {
    return 'BatchNorm2d';
  }

  protected checkInput(shape: readonly number[]): void {
    if (shape.length !== 4 || shape[1] !== this.numFeatures)
      throw invalidArgument(`BatchNorm2d(${this.numFeatures}) wants [N, C, H, W], got [${shape}]`);
  }

  static create<S>(engine: Engine<S>, numFeatures: number, init: BatchNormInit = {}): BatchNorm2d<S> {
    return new BatchNorm2d(...bnParts(engine, numFeatures, init), init.eps ?? 1e-5);
  }
}

/**
 * Inverted dropout with a public mask from a public seed (see the file header). Starts in training
 * mode, as PyTorch modules do; `eval()` makes it the identity.
 */
export class Dropout<S> implements Module<S> {
  training = true;
  private readonly prg: Prg;
  private mask: PublicTensor | null = null;

  /** @param seed 16 public bytes every party passes identically. */
  constructor(
    readonly p: number,
    seed: Uint8Array,
  ) {
    if (!(p >= 0 && p <= 1)) throw invalidArgument(`Dropout: p must be in [0, 1], got ${p}`);
    if (seed.length !== SEED_BYTES)
      throw invalidArgument(`Dropout: the mask seed must be ${SEED_BYTES} bytes`);
    this.prg = new Prg(seed);
  }

  static create<S>(_engine: Engine<S>, p: number, seed: Uint8Array): Dropout<S> {
    return new Dropout<S>(p, seed);
  }

  train(): void {
    this.training = true;
  }

  eval(): void {
    this.training = false;
  }

  /** The next public mask for `shape` (values 0 or 1/(1 − p)); advances the shared PRG stream. */
  nextMask(shape: readonly number[]): PublicTensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const w = this.prg.words(n);
    const keep = (1 - this.p) * 2 ** 32;
    const scale = this.p === 1 ? 0 : 1 / (1 - this.p);
    const m = new Float64Array(n);
    for (let i = 0; i < n; i++) m[i] = w[i]! < keep ? scale : 0;
    return new PublicTensor(m, shape);
  }

  async forward(x: SecretTensor<S>): Promise<SecretTensor<S>> {
    if (!this.training || this.p === 0) {
      this.mask = null;
      return x;
    }
    this.mask = this.nextMask(x.shape);
    return x.mul(this.mask);
  }

  async backward(g: SecretTensor<S>): Promise<SecretTensor<S>> {
    return this.mask === null ? g : g.mul(this.mask);
  }

  parameters(): Parameter<S>[] {
    return [];
  }
}
