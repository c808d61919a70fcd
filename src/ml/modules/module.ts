/**
 * A minimal module interface over secret tensors with an explicit backward pass (no autograd).
 *
 * A module caches what its backward needs during `forward` (the input of a Linear, the ReLU mask,
 * the sigmoid output), so `backward` must follow the matching `forward` before the next `forward`.
 * Gradients are accumulated into each `Parameter.grad` (summed if backward runs twice before the
 * optimizer's `zeroGrad`), as in PyTorch.
 */
import type { SecretTensor } from '../../tensor/tensor.js';

/** A trainable secret tensor and its gradient (null until a backward pass sets it). */
export class Parameter<S> {
  grad: SecretTensor<S> | null = null;
  constructor(
    public value: SecretTensor<S>,
    readonly name: string,
  ) {}

  /** Add `g` to the gradient (local, exact). */
  accumulate(g: SecretTensor<S>): void {
    this.grad = this.grad === null ? g : this.grad.add(g);
  }
}

export interface Module<S> {
  /** Forward pass; caches what backward needs. */
  forward(x: SecretTensor<S>): Promise<SecretTensor<S>>;
  /** Given dL/d(output), accumulate parameter gradients and return dL/d(input). */
  backward(gradOut: SecretTensor<S>): Promise<SecretTensor<S>>;
  /** Trainable parameters (empty for activations). */
  parameters(): Parameter<S>[];
  /** Training mode (Dropout masks, BatchNorm); modules without a mode omit these. */
  train?(): void;
  /** Evaluation mode (Dropout is the identity). */
  eval?(): void;
}

/** Modules applied in order; backward runs them in reverse. */
export class Sequential<S> implements Module<S> {
  readonly layers: readonly Module<S>[];
  constructor(...layers: Module<S>[]) {
    this.layers = layers;
  }

  async forward(x: SecretTensor<S>): Promise<SecretTensor<S>> {
    let h = x;
    for (const l of this.layers) h = await l.forward(h);
    return h;
  }

  async backward(gradOut: SecretTensor<S>): Promise<SecretTensor<S>> {
    let g = gradOut;
    for (let i = this.layers.length - 1; i >= 0; i--) g = await this.layers[i]!.backward(g);
    return g;
  }

  parameters(): Parameter<S>[] {
    return this.layers.flatMap((l) => l.parameters());
  }

  /** Put every layer that has a mode into training mode. */
  train(): void {
    for (const l of this.layers) l.train?.();
  }

  /** Put every layer that has a mode into evaluation mode. */
  eval(): void {
    for (const l of this.layers) l.eval?.();
  }
}

export function noForward(name: string): Error {
  return new Error(`${name}.backward called before forward`);
}
