/** Elementwise activations with explicit backward. */
import { SecretTensor } from '../../tensor/tensor.js';
import { sigmoid, tanh, type SigmoidMethod } from '../../tensor/nonlinear/sigmoid.js';
import { softmax } from '../../tensor/nonlinear/softmax.js';
import type { Engine } from '../../protocols/engine.js';
import { type Module, type Parameter, noForward } from './module.js';

/**
 * ReLU: forward is one `engine.relu` call (y and the mask d = [x ≥ 0] from one comparison); backward
 * is g ⊙ d as a plain ring product with d kept as the integer 0/1 (not fixed point): g·d is then exact
 * at g's scale and needs no truncation, so the backward costs one round and no truncation material
 * (it used to be a fixed-point product whose truncation, exact on a multiple of 2^f, still consumed a
 * truncation triple per element).
 */
export class ReLU<S> implements Module<S> {
  private mask: SecretTensor<S> | null = null;
  /**
   * Comparison width in bits (64: full). Set below 64 only from a proved bound on the input
   * (`Model.fit`'s `reluBounds`, from the job's range check): |x| < 2^(width−1) ring units.
   */
  width = 64;

  static create<S>(_engine: Engine<S>): ReLU<S> {
    return new ReLU<S>();
  }

  async forward(x: SecretTensor<S>): Promise<SecretTensor<S>> {
    const e = x.engine;
    const { y, d } = this.width < 64 ? await e.relu(x.share, this.width) : await e.relu(x.share);
    this.mask = SecretTensor.fromShare(e, d, x.shape); // integer 0/1, not fixed point
    return SecretTensor.fromShare(e, y, x.shape);
  }

  async backward(g: SecretTensor<S>): Promise<SecretTensor<S>> {
    const d = this.mask;
    if (d === null) throw noForward('ReLU');
    if (g.size !== d.size)
      throw new Error(`ReLU.backward: gradient [${g.shape}] does not match the forward input [${d.shape}]`);
    const e = g.engine;
    return SecretTensor.fromShare(e, await e.mul(g.share, d.share), g.shape);
  }

  parameters(): Parameter<S>[] {
    return [];
  }
}

/**
 * Sigmoid σ(x) (src/tensor/nonlinear/sigmoid.ts: 'exact' by default, |error| ≤ 5·10^-4 at f = 16,
 * 27 rounds on rep3). Backward: g·σ·(1 − σ), two secret products (two truncations, ≤ 2 ulp + the
 * forward error). For a sigmoid feeding a binary cross-entropy, use `BCEWithLogitsLoss` on the
 * logits instead: its gradient σ(z) − y is simpler and better conditioned.
 */
export class Sigmoid<S> implements Module<S> {
  private out: SecretTensor<S> | null = null;
  constructor(readonly method: SigmoidMethod = 'exact') {}

  static create<S>(_engine: Engine<S>, method: SigmoidMethod = 'exact'): Sigmoid<S> {
    return new Sigmoid<S>(method);
  }

  async forward(x: SecretTensor<S>): Promise<SecretTensor<S>> {
    const y = await x.mapElementwise((e, s) => sigmoid(e, s, this.method));
    this.out = y;
    return y;
  }

  async backward(g: SecretTensor<S>): Promise<SecretTensor<S>> {
    const y = this.out;
    if (y === null) throw noForward('Sigmoid');
    const dy = await y.mul(y.rsub(1)); // σ(1 − σ)
    return g.mul(dy);
  }

  parameters(): Parameter<S>[] {
    return [];
  }
}

/**
 * tanh(x) = 2σ(2x) − 1 (src/tensor/nonlinear/sigmoid.ts: absolute error ≤ 10^-3, 27 rounds).
 * Backward: g·(1 − y²), two secret products (y², then the product with g; ≤ 2 ulp + the forward
 * error times 2|y|·|g|).
 */
export class Tanh<S> implements Module<S> {
  private out: SecretTensor<S> | null = null;
  constructor(readonly method: SigmoidMethod = 'exact') {}

  static create<S>(_engine: Engine<S>, method: SigmoidMethod = 'exact'): Tanh<S> {
    return new Tanh<S>(method);
  }

  async forward(x: SecretTensor<S>): Promise<SecretTensor<S>> {
    const y = await x.mapElementwise((e, s) => tanh(e, s, this.method));
    this.out = y;
    return y;
  }

  async backward(g: SecretTensor<S>): Promise<SecretTensor<S>> {
    const y = this.out;
    if (y === null) throw noForward('Tanh');
    const y2 = await y.mul(y);
    return g.mul(y2.rsub(1));
  }

  parameters(): Parameter<S>[] {
    return [];
  }
}

/**
 * Softmax along `dim` (src/tensor/nonlinear/softmax.ts: max-subtracted, absolute error ≤ 10^-3;
 * about 76 rounds for 10 columns, dominated by the row max). Backward: y ⊙ (g − Σ_dim g ⊙ y), two
 * secret products (the sum is local; ≤ 2 ulp + the forward error times |g|). For a classifier's
 * last layer use `CrossEntropyLoss` on the logits instead (its gradient needs no softmax backward).
 */
export class Softmax<S> implements Module<S> {
  private out: SecretTensor<S> | null = null;
  constructor(readonly dim = -1) {}

  static create<S>(_engine: Engine<S>, dim = -1): Softmax<S> {
    return new Softmax<S>(dim);
  }

  async forward(x: SecretTensor<S>): Promise<SecretTensor<S>> {
    const y = await x.mapAlongAxis(softmax, this.dim);
    this.out = y;
    return y;
  }

  async backward(g: SecretTensor<S>): Promise<SecretTensor<S>> {
    const y = this.out;
    if (y === null) throw noForward('Softmax');
    const s = (await g.mul(y)).sum(this.dim, true);
    return y.mul(g.sub(s));
  }

  parameters(): Parameter<S>[] {
    return [];
  }
}
