/** Elementwise activations with explicit backward. */
import type { SecretTensor } from '../../tensor/tensor.js';
import { sigmoid, type SigmoidMethod } from '../../tensor/nonlinear/sigmoid.js';
import { type Module, type Parameter, noForward } from './module.js';

/**
 * ReLU: forward is one `reluWithGrad` call (y and the mask d = [x ≥ 0]); backward is g·d, one
 * product whose truncation is exact (d is 0 or 1 in fixed point, so g·d is an exact multiple of 2^f).
 */
export class ReLU<S> implements Module<S> {
  private mask: SecretTensor<S> | null = null;

  async forward(x: SecretTensor<S>): Promise<SecretTensor<S>> {
    const { y, d } = await x.reluWithGrad();
    this.mask = d;
    return y;
  }

  async backward(g: SecretTensor<S>): Promise<SecretTensor<S>> {
    if (this.mask === null) throw noForward('ReLU');
    return g.mul(this.mask);
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
