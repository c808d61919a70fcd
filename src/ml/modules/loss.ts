/**
 * Losses as gradient functions: `grad(pred, target)` returns dL/d(pred) for the mean loss over the
 * batch, as PyTorch's default reduction='mean'. `loss(pred, target)` returns the batch-mean loss
 * value itself as a secret scalar (shape []), so training can report it (reveal it to whoever the job
 * names); it costs a separate evaluation (secure log where needed) and is not needed for training.
 *
 * Fixed point: the 1/B (or 1/N) factor is a public scalar product with one truncation
 * (`mulScalar`), applied to the residual, which is small (|σ(z) − y| ≤ 1), so the truncation error
 * (≤ 1 ulp) is small against the gradient and unbiased (stochastic truncation). The public factor's
 * encoding round(2^f/B) carries a relative error ≤ B·2^-(f+1) (2.7·10^-4 for B = 35 at f = 16): an
 * equally small change of the effective learning rate.
 */
import { SecretTensor } from '../../tensor/tensor.js';
import {
  piecewise3Residual,
  piecewise3ScaledResidual,
  sigmoid,
  type SigmoidMethod,
} from '../../tensor/nonlinear/sigmoid.js';
import { exp } from '../../tensor/nonlinear/exp.js';
import { log } from '../../tensor/nonlinear/log.js';
import { logSoftmax, softmax } from '../../tensor/nonlinear/softmax.js';
import { ShareholdError, invalidArgument } from '../../errors.js';

export interface Loss<S> {
  /** dL/d(pred) of the batch-mean loss; pred and target have the same shape, batch on axis 0. */
  grad(pred: SecretTensor<S>, target: SecretTensor<S>): Promise<SecretTensor<S>>;
  /** The batch-mean loss as a secret scalar (shape []); every loss of this module implements it. */
  loss?(pred: SecretTensor<S>, target: SecretTensor<S>): Promise<SecretTensor<S>>;
  /**
   * Optional: a gradient that takes the target already multiplied by the batch-mean factor c = 1/N,
   * so training scales the whole training set's targets once (one round before training) instead of
   * every step. `scale(y, c)` prepares the targets, `grad(pred, scaledTarget, c)` equals
   * `grad(pred, target)` for a batch of N = 1/c elements.
   */
  readonly prescaled?: {
    scale(target: SecretTensor<S>, c: number): Promise<SecretTensor<S>>;
    grad(pred: SecretTensor<S>, scaledTarget: SecretTensor<S>, c: number): Promise<SecretTensor<S>>;
  };
}

/**
 * mean = sum/N for a loss value: sum·round(2^2f/N) then two truncations (2 rounds), so the encoding
 * of 1/N costs ≤ N·2^-(2f+1) relative instead of N·2^-(f+1) (6·10^-5 for N = 10 at f = 16); ≤ 2 ulp.
 * Valid for |mean| < 2^(63−3f) (2^15 at f = 16).
 */
async function meanOf<S>(sum: SecretTensor<S>, N: number, sign = 1): Promise<SecretTensor<S>> {
  const e = sum.engine;
  const f = e.f;
  const k = BigInt(sign * Math.round(2 ** (2 * f) / N));
  const y = await e.trunc(await e.trunc(e.mulScalar(sum.share, k)));
  return SecretTensor.fromShare(e, y, sum.shape);
}

function sameShapes<S>(what: string, a: SecretTensor<S>, b: SecretTensor<S>): void {
  if (a.ndim !== b.ndim || a.shape.some((d, i) => d !== b.shape[i]))
    throw invalidArgument(`${what}: prediction [${a.shape}] and target [${b.shape}] differ in shape`);
}

/**
 * Binary cross-entropy on logits z (PyTorch `BCEWithLogitsLoss`, mean over all elements):
 * dL/dz = (σ(z) − y)/N, N = number of elements (= B for one output). One sigmoid and one truncation.
 */
export class BCEWithLogitsLoss<S> implements Loss<S> {
  /**
   * `logitWidth` (< 64): the caller guarantees |z| + 1/2 < 2^(logitWidth−1−f) for every logit (e.g.
   * from the job's range check); rep3 then compares on that many bits in the 3-piece sigmoid.
   */
  constructor(
    readonly method: SigmoidMethod = 'exact',
    readonly logitWidth = 64,
  ) {}

  /**
   * 'piecewise3': 1/N is folded into the sigmoid's product (`piecewise3Residual`: comparison + one
   * round, no separate truncation round); 'exact': sigmoid, subtraction, one truncated scalar product.
   */
  /**
   * 'piecewise3' only: c·y once for the training set (one truncated scalar product), then per step
   * c·(σ₃(z) − y) = m·ĉ·(z + 1/2)/2^f + b·ĉ − c·y with one fused product-and-truncation on B values
   * (`piecewise3ScaledResidual`): the comparison + one round, and no more truncations than σ₃ itself.
   */
  get prescaled(): Loss<S>['prescaled'] {
    if (this.method !== 'piecewise3') return undefined;
    return {
      scale: (y, c) => y.mulScalar(c),
      grad: async (z, yc, c) => {
        sameShapes('BCEWithLogitsLoss', z, yc);
        const e = z.engine;
        const r = await piecewise3ScaledResidual(e, z.share, yc.share, c, this.logitWidth);
        return SecretTensor.fromShare(e, r, [...z.shape]);
      },
    };
  }

  async grad(z: SecretTensor<S>, y: SecretTensor<S>): Promise<SecretTensor<S>> {
    if (this.method === 'piecewise3') {
      sameShapes('BCEWithLogitsLoss', z, y);
      const e = z.engine;
      const r = await piecewise3Residual(e, z.share, y.share, 1 / z.size, this.logitWidth);
      return SecretTensor.fromShare(e, r, [...z.shape]);
    }
    const p = await z.mapElementwise((e, s) => sigmoid(e, s, this.method));
    return p.sub(y).mulScalar(1 / z.size);
  }

  /**
   * mean(softplus(z) − z·y), softplus(z) = relu(z) + log(1 + e^−|z|) (the stable form PyTorch uses):
   * one ReLU gives relu(z) and |z| = 2·relu(z) − z; −|z| is clamped at −16 by a second ReLU (e^−16 is
   * below one ulp); exp (relative ≤ 3·10^-3) and log on [1, 2] (absolute ≤ 10^-4), z·y concurrently,
   * then the exact sum and the mean (two truncations, see `meanOf`). Error ≤ 2·10^-3 absolute (exp's relative error times
   * e^−|z|/(1 + e^−|z|) ≤ 1/2, plus log's), measured ≈ 5·10^-4.
   */
  async loss(z: SecretTensor<S>, y: SecretTensor<S>): Promise<SecretTensor<S>> {
    sameShapes('BCEWithLogitsLoss', z, y);
    const zyP = z.mul(y); // issued first, concurrent with the chain below
    const { y: rz } = await z.reluWithGrad();
    const absz = (await rz.mulScalar(2)).sub(z); // |z| (integer scalar: exact, local)
    const t = (await absz.rsub(16).relu()).addScalar(-16); // max(−|z|, −16)
    const ez = await t.mapElementwise(exp);
    const sp = await ez.addScalar(1).mapElementwise((e, s) => log(e, s, { lo: 0, hi: 2 }));
    const zy = await zyP;
    return meanOf(rz.add(sp).sub(zy).sum(), z.size);
  }
}

/**
 * Binary cross-entropy on logits with a per-row weight: the target is [B, 2] = (label y, weight w).
 * grad: w·(σ(z) − y)/B; loss: mean(w·(softplus(z) − z·y)). With w = 1 + (pw − 1)·y this is PyTorch's
 * `BCEWithLogitsLoss(pos_weight = pw)` (since y² = y); a data owner chooses the weights of its own
 * rows (e.g. for class imbalance) and shares them with the rows, so no one else learns them.
 * Cost over BCEWithLogitsLoss: one secret product (one round, ≤ 1 ulp + |w|·ulp); the scaling
 * w·(1/B) runs concurrently with the sigmoid.
 */
export class WeightedBCEWithLogitsLoss<S> implements Loss<S> {
  constructor(readonly method: SigmoidMethod = 'exact') {}

  #split(name: string, z: SecretTensor<S>, t: SecretTensor<S>): { y: SecretTensor<S>; w: SecretTensor<S> } {
    const B = z.shape[0]!;
    if (z.ndim !== 2 || z.shape[1] !== 1 || t.ndim !== 2 || t.shape[0] !== B || t.shape[1] !== 2)
      throw new ShareholdError(
        'shape-mismatch',
        `${name}: logits [B, 1] and target [B, 2] (label, weight) expected, got [${z.shape}] and [${t.shape}]`,
      );
    return { y: t.slice(1, 0, 1), w: t.slice(1, 1, 2) };
  }

  /**
   * w/B is computed while the sigmoid runs (it does not depend on z: its round overlaps the
   * sigmoid's), then one fused product (σ(z) − y)·(w/B): one round after the sigmoid instead of two.
   */
  async grad(z: SecretTensor<S>, t: SecretTensor<S>): Promise<SecretTensor<S>> {
    const { y, w } = this.#split('WeightedBCEWithLogitsLoss', z, t);
    const wc = w.mulScalar(1 / z.size); // issued first, concurrent with the sigmoid
    const p = await z.mapElementwise((e, s) => sigmoid(e, s, this.method));
    return p.sub(y).mul(await wc);
  }

  async loss(z: SecretTensor<S>, t: SecretTensor<S>): Promise<SecretTensor<S>> {
    const { y, w } = this.#split('WeightedBCEWithLogitsLoss', z, t);
    // the per-row terms: softplus(z) − z·y = BCE's summand; recompute it row-wise and weight it
    const zyP = z.mul(y);
    const { y: rz } = await z.reluWithGrad();
    const absz = (await rz.mulScalar(2)).sub(z);
    const tt = (await absz.rsub(16).relu()).addScalar(-16);
    const ez = await tt.mapElementwise(exp);
    const sp = await ez.addScalar(1).mapElementwise((e, s) => log(e, s, { lo: 0, hi: 2 }));
    const row = rz.add(sp).sub(await zyP);
    return meanOf((await row.mul(w)).sum(), z.size);
  }
}

/** Mean squared error (PyTorch `MSELoss`, mean over all N elements): dL/dŷ = 2(ŷ − y)/N. */
export class MSELoss<S> implements Loss<S> {
  async grad(pred: SecretTensor<S>, y: SecretTensor<S>): Promise<SecretTensor<S>> {
    return pred.sub(y).mulScalar(2 / pred.size);
  }

  /** mean((ŷ − y)²): one product, exact sum, mean by `meanOf` (≤ 3 ulp + N·2^-33 relative; 3 rounds). */
  async loss(pred: SecretTensor<S>, y: SecretTensor<S>): Promise<SecretTensor<S>> {
    sameShapes('MSELoss', pred, y);
    const d = pred.sub(y);
    return meanOf((await d.mul(d)).sum(), pred.size);
  }
}

/**
 * Softmax cross-entropy on logits z [B, C] with a one-hot target [B, C] (PyTorch `CrossEntropyLoss`
 * with probability targets, reduction 'mean' over the batch).
 *
 * grad: (softmax(z) − onehot)/B — row softmax (src/tensor/nonlinear/softmax.ts, absolute ≤ 10^-3,
 * ≈ 76 rounds for C = 10), a local subtraction and one truncation (1/B).
 * loss: −Σ onehot ⊙ log_softmax(z) / B — log-softmax (absolute ≤ 10^-3 for entries ≥ −16 below the
 * row max; an entry further below is clamped there, so a confidently wrong row reports at most ≈ 16),
 * one exact product with the 0/1 target, exact sum, mean by `meanOf`. Error ≤ 10^-3 + 2 ulp.
 */
export class CrossEntropyLoss<S> implements Loss<S> {
  private check(z: SecretTensor<S>, t: SecretTensor<S>): number {
    if (z.ndim !== 2) throw invalidArgument(`CrossEntropyLoss wants logits [B, C], got [${z.shape}]`);
    sameShapes('CrossEntropyLoss', z, t);
    return z.shape[0]!;
  }

  async grad(z: SecretTensor<S>, onehot: SecretTensor<S>): Promise<SecretTensor<S>> {
    const B = this.check(z, onehot);
    const p = await z.mapAlongAxis(softmax, -1);
    return p.sub(onehot).mulScalar(1 / B);
  }

  async loss(z: SecretTensor<S>, onehot: SecretTensor<S>): Promise<SecretTensor<S>> {
    const B = this.check(z, onehot);
    const ls = await z.mapAlongAxis(logSoftmax, -1);
    return meanOf((await ls.mul(onehot)).sum(), B, -1);
  }
}
