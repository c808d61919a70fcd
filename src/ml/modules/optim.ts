/**
 * Stochastic gradient descent with optional momentum, PyTorch semantics:
 * v ← μ·v + g (v = g at the first step), p ← p − lr·v (v = g without momentum).
 *
 * Fixed point: lr and μ are public scalars; each multiplication is `mulScalar` (the product by
 * round(c·2^f), then one truncation; ≤ 1 ulp + |x|·ulp/2 error, unbiased). All parameters are updated
 * concurrently (one round per scalar product for the whole model). Parameters stay secret-shared.
 */
import type { SecretTensor } from '../../tensor/tensor.js';
import type { Parameter } from './module.js';

/** What `fit` needs of an optimizer (SGD, Adam). */
export interface Optimizer<S> {
  readonly params: readonly Parameter<S>[];
  /** Apply one update from the accumulated gradients. */
  step(): Promise<void>;
  zeroGrad(): void;
}

export interface SGDOptions {
  readonly lr: number;
  readonly momentum?: number;
}

export class SGD<S> implements Optimizer<S> {
  readonly lr: number;
  readonly momentum: number;
  private readonly velocity = new Map<Parameter<S>, SecretTensor<S>>();

  constructor(
    readonly params: readonly Parameter<S>[],
    opts: SGDOptions,
  ) {
    if (!(opts.lr > 0)) throw new Error(`SGD: learning rate must be positive, got ${opts.lr}`);
    this.lr = opts.lr;
    this.momentum = opts.momentum ?? 0;
  }

  /** Apply one update from the accumulated gradients (parameters without a gradient are skipped). */
  async step(): Promise<void> {
    await Promise.all(
      this.params.map(async (p) => {
        if (p.grad === null) return;
        let v = p.grad;
        if (this.momentum !== 0) {
          const prev = this.velocity.get(p);
          if (prev !== undefined) v = (await prev.mulScalar(this.momentum)).add(v);
          this.velocity.set(p, v);
        }
        p.value = p.value.sub(await v.mulScalar(this.lr));
      }),
    );
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }
}
