/**
 * Losses as gradient functions: `grad(pred, target)` returns dL/d(pred) for the mean loss over the
 * batch, as PyTorch's default reduction='mean'. The loss value itself is not computed under MPC
 * (it needs a secure log; training does not); evaluate it in plaintext on revealed outputs.
 *
 * Fixed point: the 1/B (or 1/N) factor is a public scalar product with one truncation
 * (`mulScalar`), applied to the residual, which is small (|σ(z) − y| ≤ 1), so the truncation error
 * (≤ 1 ulp) is small against the gradient and unbiased (stochastic truncation). The public factor's
 * encoding round(2^f/B) carries a relative error ≤ B·2^-(f+1) (2.7·10^-4 for B = 35 at f = 16): an
 * equally small change of the effective learning rate.
 */
import type { SecretTensor } from '../../tensor/tensor.js';
import { sigmoid, type SigmoidMethod } from '../../tensor/nonlinear/sigmoid.js';

export interface Loss<S> {
  /** dL/d(pred) of the batch-mean loss; pred and target have the same shape, batch on axis 0. */
  grad(pred: SecretTensor<S>, target: SecretTensor<S>): Promise<SecretTensor<S>>;
}

/**
 * Binary cross-entropy on logits z (PyTorch `BCEWithLogitsLoss`, mean over all elements):
 * dL/dz = (σ(z) − y)/N, N = number of elements (= B for one output). One sigmoid and one truncation.
 */
export class BCEWithLogitsLoss<S> implements Loss<S> {
  constructor(readonly method: SigmoidMethod = 'exact') {}

  async grad(z: SecretTensor<S>, y: SecretTensor<S>): Promise<SecretTensor<S>> {
    const p = await z.mapElementwise((e, s) => sigmoid(e, s, this.method));
    return p.sub(y).mulScalar(1 / z.size);
  }
}

/** Mean squared error (PyTorch `MSELoss`, mean over all N elements): dL/dŷ = 2(ŷ − y)/N. */
export class MSELoss<S> implements Loss<S> {
  async grad(pred: SecretTensor<S>, y: SecretTensor<S>): Promise<SecretTensor<S>> {
    return pred.sub(y).mulScalar(2 / pred.size);
  }
}
