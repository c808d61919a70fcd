/**
 * Linear layer y = x·Wᵀ + b, PyTorch layout: weight [out, in], bias [out]; input [B, in] (any
 * leading axes are folded into the batch by `matmul`'s broadcasting; backward expects [B, in]).
 *
 * Fixed point: forward is one `matmulFixed` (exact accumulation, one truncation per output, error
 * ≤ 1 ulp) plus a local bias add. Backward: dW = gᵀ·x and dx = g·W are two independent matrix
 * products issued together (same round), db = Σ_batch g is a local exact sum.
 */
import { PublicTensor } from '../../tensor/public.js';
import { SecretTensor } from '../../tensor/tensor.js';
import type { Engine } from '../../protocols/engine.js';
import { type Module, Parameter, noForward } from './module.js';

export interface LinearInit {
  /** Public initial weight, row-major [out, in] (default zeros). */
  readonly weight?: ArrayLike<number>;
  /** Public initial bias [out] (default zeros). */
  readonly bias?: ArrayLike<number>;
}

export class Linear<S> implements Module<S> {
  readonly weight: Parameter<S>;
  readonly bias: Parameter<S>;
  private input: SecretTensor<S> | null = null;

  constructor(weight: SecretTensor<S>, bias: SecretTensor<S>) {
    if (weight.ndim !== 2 || bias.ndim !== 1 || bias.shape[0] !== weight.shape[0])
      throw new Error(
        `Linear: weight [out, in] and bias [out] expected, got [${weight.shape}] and [${bias.shape}]`,
      );
    this.weight = new Parameter(weight, 'weight');
    this.bias = new Parameter(bias, 'bias');
  }

  /** A layer with public initial parameters (zeros by default) shared as constants. */
  static create<S>(
    engine: Engine<S>,
    inFeatures: number,
    outFeatures: number,
    init: LinearInit = {},
  ): Linear<S> {
    const w = new PublicTensor(init.weight ?? new Float64Array(outFeatures * inFeatures), [
      outFeatures,
      inFeatures,
    ]);
    const b = new PublicTensor(init.bias ?? new Float64Array(outFeatures), [outFeatures]);
    return new Linear(SecretTensor.fromPublic(engine, w), SecretTensor.fromPublic(engine, b));
  }

  get inFeatures(): number {
    return this.weight.value.shape[1]!;
  }

  get outFeatures(): number {
    return this.weight.value.shape[0]!;
  }

  async forward(x: SecretTensor<S>): Promise<SecretTensor<S>> {
    this.input = x;
    // one fused product-plus-bias where the engine has it (rep3: the output keeps its sign hint)
    return x.matmulBias(this.weight.value.transpose(), this.bias.value);
  }

  async backward(g: SecretTensor<S>): Promise<SecretTensor<S>> {
    const x = this.input;
    if (x === null) throw noForward('Linear');
    const [dW, dx] = await Promise.all([g.transpose().matmul(x), g.matmul(this.weight.value)]);
    this.weight.accumulate(dW);
    this.bias.accumulate(g.sum(0));
    return dx;
  }

  parameters(): Parameter<S>[] {
    return [this.weight, this.bias];
  }
}
