/**
 * Convolution, pooling and flattening modules (PyTorch layouts: input [N, C, H, W], weight
 * [out, in, kh, kw], bias [out]). Backward passes are in src/tensor/conv-grad.ts.
 *
 * Fixed point (f = 16): Conv2d forward ≤ 1 ulp per output (one matrix product, exact accumulation);
 * backward dW ≤ 1 ulp, dx ≤ ⌈kh/s⌉·⌈kw/s⌉ ulp (summed truncated entries of the transposed
 * convolution), db exact; one round for dW and dx together. MaxPool2d: exact forward and backward
 * (a comparison tournament forward, one equality test and one exact product backward). AvgPool2d:
 * one truncation each way (the 1/k scale; relative encoding error ≤ k·2^-(f+1)). Flatten: local.
 */
import { PublicTensor } from '../../tensor/public.js';
import { SecretTensor } from '../../tensor/tensor.js';
import { avgPool2dBackward, conv2dBackward, maxPool2dBackward } from '../../tensor/conv-grad.js';
import type { Engine } from '../../protocols/engine.js';
import { invalidArgument } from '../../errors.js';
import { type Module, Parameter, noForward } from './module.js';

type Pair = number | readonly [number, number];

function pair(v: Pair): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

export interface Conv2dInit {
  readonly stride?: Pair;
  readonly padding?: Pair;
  /** Public initial weight, row-major [out, in, kh, kw] (default zeros). */
  readonly weight?: ArrayLike<number>;
  /** Public initial bias [out] (default zeros). */
  readonly bias?: ArrayLike<number>;
}

export class Conv2d<S> implements Module<S> {
  readonly weight: Parameter<S>;
  readonly bias: Parameter<S>;
  readonly stride: [number, number];
  readonly padding: [number, number];
  private input: SecretTensor<S> | null = null;

  constructor(weight: SecretTensor<S>, bias: SecretTensor<S>, opts: { stride?: Pair; padding?: Pair } = {}) {
    if (weight.ndim !== 4 || bias.ndim !== 1 || bias.shape[0] !== weight.shape[0])
      throw invalidArgument(
        `Conv2d: weight [out, in, kh, kw] and bias [out] expected, got [${weight.shape}] and [${bias.shape}]`,
      );
    this.weight = new Parameter(weight, 'weight');
    this.bias = new Parameter(bias, 'bias');
    this.stride = pair(opts.stride ?? 1);
    this.padding = pair(opts.padding ?? 0);
  }

  /** A layer with public initial parameters (zeros by default) shared as constants. */
  static create<S>(
    engine: Engine<S>,
    inChannels: number,
    outChannels: number,
    kernelSize: Pair,
    init: Conv2dInit = {},
  ): Conv2d<S> {
    const [kh, kw] = pair(kernelSize);
    const shape = [outChannels, inChannels, kh, kw];
    const w = new PublicTensor(init.weight ?? new Float64Array(outChannels * inChannels * kh * kw), shape);
    const b = new PublicTensor(init.bias ?? new Float64Array(outChannels), [outChannels]);
    const opts: { stride?: Pair; padding?: Pair } = {};
    if (init.stride !== undefined) opts.stride = init.stride;
    if (init.padding !== undefined) opts.padding = init.padding;
    return new Conv2d(SecretTensor.fromPublic(engine, w), SecretTensor.fromPublic(engine, b), opts);
  }

  async forward(x: SecretTensor<S>): Promise<SecretTensor<S>> {
    this.input = x;
    return x.conv2d(this.weight.value, { stride: this.stride, pad: this.padding, bias: this.bias.value });
  }

  async backward(g: SecretTensor<S>): Promise<SecretTensor<S>> {
    const x = this.input;
    if (x === null) throw noForward('Conv2d');
    const { dW, db, dx } = await conv2dBackward(x, this.weight.value, g, {
      stride: this.stride,
      pad: this.padding,
    });
    this.weight.accumulate(dW);
    this.bias.accumulate(db);
    return dx;
  }

  parameters(): Parameter<S>[] {
    return [this.weight, this.bias];
  }
}

export interface Pool2dInit {
  /** Default: the kernel size (PyTorch). */
  readonly stride?: Pair;
  readonly padding?: Pair;
}

function poolOpts(kernel: Pair, init: Pool2dInit): { stride: Pair; pad: Pair } {
  return { stride: init.stride ?? kernel, pad: init.padding ?? 0 };
}

/** Max pooling; backward routes g to each window's argmax (first maximal position on ties). */
export class MaxPool2d<S> implements Module<S> {
  private cache: { shape: readonly number[]; indices: SecretTensor<S> } | null = null;
  constructor(
    readonly kernelSize: Pair,
    readonly init: Pool2dInit = {},
  ) {}

  static create<S>(_engine: Engine<S>, kernelSize: Pair, init: Pool2dInit = {}): MaxPool2d<S> {
    return new MaxPool2d<S>(kernelSize, init);
  }

  async forward(x: SecretTensor<S>): Promise<SecretTensor<S>> {
    const { y, indices } = await x.maxPool2dWithIndices(
      this.kernelSize,
      poolOpts(this.kernelSize, this.init),
    );
    this.cache = { shape: x.shape, indices };
    return y;
  }

  async backward(g: SecretTensor<S>): Promise<SecretTensor<S>> {
    const c = this.cache;
    if (c === null) throw noForward('MaxPool2d');
    return maxPool2dBackward(c.shape, g, c.indices, this.kernelSize, poolOpts(this.kernelSize, this.init));
  }

  parameters(): Parameter<S>[] {
    return [];
  }
}

/** Average pooling (zero padding counted, PyTorch's default); backward spreads g/(kh·kw). */
export class AvgPool2d<S> implements Module<S> {
  private shape: readonly number[] | null = null;
  constructor(
    readonly kernelSize: Pair,
    readonly init: Pool2dInit = {},
  ) {}

  static create<S>(_engine: Engine<S>, kernelSize: Pair, init: Pool2dInit = {}): AvgPool2d<S> {
    return new AvgPool2d<S>(kernelSize, init);
  }

  async forward(x: SecretTensor<S>): Promise<SecretTensor<S>> {
    this.shape = x.shape;
    return x.avgPool2d(this.kernelSize, poolOpts(this.kernelSize, this.init));
  }

  async backward(g: SecretTensor<S>): Promise<SecretTensor<S>> {
    if (this.shape === null) throw noForward('AvgPool2d');
    return avgPool2dBackward(this.shape, g, this.kernelSize, poolOpts(this.kernelSize, this.init));
  }

  parameters(): Parameter<S>[] {
    return [];
  }
}

/** Flatten axes startDim..endDim (PyTorch default 1..−1: keeps the batch axis). Local both ways. */
export class Flatten<S> implements Module<S> {
  private shape: readonly number[] | null = null;
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {}

  static create<S>(_engine: Engine<S>, startDim = 1, endDim = -1): Flatten<S> {
    return new Flatten<S>(startDim, endDim);
  }

  async forward(x: SecretTensor<S>): Promise<SecretTensor<S>> {
    this.shape = x.shape;
    return x.flatten(this.startDim, this.endDim);
  }

  async backward(g: SecretTensor<S>): Promise<SecretTensor<S>> {
    if (this.shape === null) throw noForward('Flatten');
    return g.reshape(this.shape);
  }

  parameters(): Parameter<S>[] {
    return [];
  }
}
