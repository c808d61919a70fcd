/**
 * Stochastic gradient descent with optional momentum, PyTorch semantics:
 * v ← μ·v + g (v = g at the first step), p ← p − lr·v (v = g without momentum).
 *
 * Fixed point: lr and μ are public scalars; each multiplication is `mulScalar` (the product by
 * round(c·2^f), then one truncation; ≤ 1 ulp + |x|·ulp/2 error, unbiased). All parameters are updated
 * concurrently (one round per scalar product for the whole model). Parameters stay secret-shared.
 */
import { SecretTensor } from '../../tensor/tensor.js';
import { rsqrt } from '../../tensor/nonlinear/sqrt.js';
import { invalidArgument } from '../../errors.js';
import type { Parameter } from './module.js';

/** What `fit` needs of an optimizer (SGD, Adam). */
export interface Optimizer<S> {
  readonly params: readonly Parameter<S>[];
  /** Apply one update from the accumulated gradients. */
  step(): Promise<void>;
  zeroGrad(): void;
  /**
   * The optimizer's state for a checkpoint: secret tensors (moments; this party's shares go to its
   * own store) and public counters, keyed by parameter position. `loadState` restores it.
   */
  saveState(): OptimizerState<S>;
  loadState(state: OptimizerState<S>): void;
}

/** Optimizer state: secret tensors by name and public counters. */
export interface OptimizerState<S> {
  readonly tensors: Readonly<Record<string, SecretTensor<S>>>;
  readonly counters: Readonly<Record<string, number>>;
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

  saveState(): OptimizerState<S> {
    const tensors: Record<string, SecretTensor<S>> = {};
    this.params.forEach((p, i) => {
      const v = this.velocity.get(p);
      if (v !== undefined) tensors[`velocity.${i}`] = v;
    });
    return { tensors, counters: {} };
  }

  loadState(state: OptimizerState<S>): void {
    this.velocity.clear();
    this.params.forEach((p, i) => {
      const v = state.tensors[`velocity.${i}`];
      if (v !== undefined) this.velocity.set(p, v);
    });
  }
}

/** Elementwise clip of the scaled gradient s·g (keeps rsqrt's input below 2^14). */
const CLIP = 127;

export interface AdamOptions {
  readonly lr: number;
  /** (β1, β2), default (0.9, 0.999). */
  readonly betas?: readonly [number, number];
  /** PyTorch's eps (default 1e-8); the effective value is max(eps, epsFloor), see the class doc. */
  readonly eps?: number;
  /**
   * Public gradient scale s (positive integer, default 256): the moments are kept for s·g, so that
   * s·|g| lands inside rsqrt's input range. Choose s with s·max|g| ≤ 127 (s·g is clipped
   * elementwise to ±127, i.e. gradient clipping at 127/s) and s·|g| well above 2^-5 for the
   * gradients that matter (smaller ones behave as with PyTorch's eps = ε̃ = 2^-5/s).
   */
  readonly gradScale?: number;
}

/**
 * Adam (PyTorch semantics, bias correction, no weight decay, no amsgrad):
 * m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g², m̂ = m/(1 − β1^t), v̂ = v/(1 − β2^t),
 * p ← p − lr·m̂/(√v̂ + eps) — computed as p ← p − lr·m̂·rsqrt(v̂ + ε̃²) (docs/ml-modules.md).
 *
 * Fixed point (f = 16) and what differs from PyTorch:
 * - The bias-corrected moments are stored directly: m̂_t = a_t·m̂_{t−1} + b_t·g with
 *   b_t = (1 − β1)/(1 − β1^t), a_t = 1 − b_t (algebraically identical to PyTorch), likewise v̂ with
 *   β2. b_t is encoded as round(b_t·2^f)/2^f and a_t as exactly 1 − that, so each update is a true
 *   weighted average (no magnitude bias; only the weights move by ≤ 2^-17) with one fused
 *   truncation (≤ 1 ulp). Storing v̂ rather than v keeps it at the magnitude of g² from the first
 *   step: v itself is (1 − β2^t)·g² ≈ 0.001·g² at t = 1 and would lose 2 decimal digits to the ulp,
 *   and encoding 1 − β2 = 0.001 alone would bias it by 0.7% (66/2^16).
 * - The moments are those of s·g (s = `gradScale`, public integer, exact): m̂_s = s·m̂, v̂_s = s²·v̂.
 *   The denominator is r = rsqrt(v̂_s + (s·ε̃)²) = 1/(s·√(v̂ + ε̃²)); then m̂_s·r = m̂/√(v̂ + ε̃²).
 *   rsqrt's input range [2^-12, 2^14) fixes the dynamic range: ε̃ = max(eps, 2^-5/s) (the floor keeps
 *   the rsqrt input ≥ 2^-10 = 64 ulp, where one ulp of noise in v̂_s moves r by < 1%), and s·g is
 *   clipped elementwise to ±127 first (one ReLU call on 2n values), so v̂_s + (sε̃)² < 2^14 always:
 *   gradient clipping at 127/s instead of garbage out of range. √(v̂ + ε̃²) differs from √v̂ + ε̃
 *   by at most a factor √2 (at √v̂ = ε̃) and not at all when √v̂ ≫ ε̃ or ≪ ε̃.
 * - v̂ small (≈ ε̃²) is the hard case: there r ≈ 1/(s·ε̃) = 32 amplifies the ulp-level noise of m̂_s
 *   (absolute error in m̂/√(v̂ + ε̃²) ≲ 32·2 ulp ≈ 10^-3, times lr in the parameter), and one ulp of
 *   v̂_s is 1/64 of the floor. Elsewhere the error is rsqrt's relative 2·10^-3 plus ≤ 2 ulp/(s·|g|)
 *   relative (measured in test/ml/modules-adam.test.ts).
 * Each parameter has its own step count t (PyTorch's per-parameter state['step']); parameters
 * without a gradient are skipped. Rounds per step (rep3, all parameters as one vector): ReLU (clip) + 1 (m̂, g²) + 1 (v̂) + 17 (rsqrt)
 * + 1 (m̂·r) + 1 (·lr).
 */
export class Adam<S> implements Optimizer<S> {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly gradScale: number;
  /** The effective ε̃ = max(eps, 2^-5/s). */
  readonly epsEff: number;
  private t = 0;
  /** Per parameter: the moments and its own step count (PyTorch counts steps per parameter). */
  private readonly state = new Map<Parameter<S>, { m: SecretTensor<S>; v: SecretTensor<S>; t: number }>();

  constructor(
    readonly params: readonly Parameter<S>[],
    opts: AdamOptions,
  ) {
    if (!(opts.lr > 0)) throw invalidArgument(`Adam: learning rate must be positive, got ${opts.lr}`);
    const [b1, b2] = opts.betas ?? [0.9, 0.999];
    for (const b of [b1, b2])
      if (!(b >= 0 && b < 1)) throw invalidArgument(`Adam: betas must be in [0, 1), got ${b}`);
    const s = opts.gradScale ?? 256;
    if (!(Number.isInteger(s) && s >= 1 && s <= 2 ** 20))
      throw invalidArgument(`Adam: gradScale must be an integer in [1, 2^20], got ${s}`);
    this.lr = opts.lr;
    this.beta1 = b1;
    this.beta2 = b2;
    this.eps = opts.eps ?? 1e-8;
    this.gradScale = s;
    this.epsEff = Math.max(this.eps, 2 ** -5 / s);
  }

  /**
   * The weights b_t of the new gradient in the bias-corrected moments at step t (1-based):
   * [(1 − β1)/(1 − β1^t), (1 − β2)/(1 − β2^t)]; the old moment gets 1 − b_t. Used encoded at f bits.
   */
  coefficients(t: number): [number, number] {
    return [(1 - this.beta1) / (1 - this.beta1 ** t), (1 - this.beta2) / (1 - this.beta2 ** t)];
  }

  /** Calls of `step` that updated at least one parameter. */
  get steps(): number {
    return this.t;
  }

  /** How many updates `p` has received (its bias-correction step t). */
  stepsOf(p: Parameter<S>): number {
    return this.state.get(p)?.t ?? 0;
  }

  async step(): Promise<void> {
    const live = this.params.filter((p) => p.grad !== null);
    if (live.length === 0) return;
    this.t++;
    const e = live[0]!.value.engine;
    const f = e.f;
    const one = 1n << BigInt(f);
    const s = BigInt(this.gradScale);
    // all parameters as one flat vector: one engine call per stage
    const sizes = live.map((p) => p.value.size);
    const gs = e.mulScalar(e.concat(live.map((p) => p.grad!.share)), s); // s·g, exact
    const n = e.length(gs);
    // clip s·g to ±G (G = 2^7 − 1, so v̂_s + (sε̃)² < 2^14 stays in rsqrt's range): one ReLU call,
    // g ← g − relu(g − G) + relu(−g − G)
    const G = new BigUint64Array(n).fill(BigInt.asUintN(64, -(BigInt(CLIP) << BigInt(f))));
    const { y: ex } = await e.relu(e.concat([e.addPublic(gs, G), e.addPublic(e.neg(gs), G)]));
    const g = e.add(e.sub(gs, e.slice(ex, 0, n)), e.slice(ex, n, 2 * n));
    const zeros = (len: number): S => e.constant(new BigUint64Array(len));
    const prev = live.map((p) => this.state.get(p));
    const mPrev = e.concat(prev.map((st, i) => st?.m.share ?? zeros(sizes[i]!)));
    const vPrev = e.concat(prev.map((st, i) => st?.v.share ?? zeros(sizes[i]!)));
    // per-element public weights b_t (each parameter at its own step t), old moment 1 − b_t
    const ts = prev.map((st) => (st?.t ?? 0) + 1);
    const weights = (k: 0 | 1): [BigUint64Array, BigUint64Array] => {
      const bNew = new BigUint64Array(n);
      const bOld = new BigUint64Array(n);
      let o = 0;
      ts.forEach((t, i) => {
        const b = BigInt(Math.round(this.coefficients(t)[k] * 2 ** f));
        bNew.fill(b, o, o + sizes[i]!);
        bOld.fill(one - b, o, o + sizes[i]!);
        o += sizes[i]!;
      });
      return [bNew, bOld];
    };
    const [b1, a1] = weights(0);
    const [b2, a2] = weights(1);
    // m̂ ← (1 − b1)·m̂ + b1·g (one truncation), concurrently g²
    const [m, g2] = await Promise.all([
      e.trunc(e.add(e.mulPublic(mPrev, a1), e.mulPublic(g, b1))),
      e.mulFixed(g, g),
    ]);
    const v = await e.trunc(e.add(e.mulPublic(vPrev, a2), e.mulPublic(g2, b2)));
    const floor = (this.epsEff * this.gradScale) ** 2;
    const a = e.addPublic(v, new BigUint64Array(n).fill(BigInt(Math.round(floor * 2 ** f))));
    const r = await rsqrt(e, a);
    const q = await e.mulFixed(m, r); // m̂_s·r = m̂/√(v̂ + ε̃²)
    const upd = await e.trunc(e.mulScalar(q, BigInt(Math.round(this.lr * 2 ** f))));
    let off = 0;
    live.forEach((p, i) => {
      const len = sizes[i]!;
      const sh = p.value.shape;
      this.state.set(p, {
        m: SecretTensor.fromShare(e, e.slice(m, off, off + len), sh),
        v: SecretTensor.fromShare(e, e.slice(v, off, off + len), sh),
        t: ts[i]!,
      });
      p.value = p.value.sub(SecretTensor.fromShare(e, e.slice(upd, off, off + len), sh));
      off += len;
    });
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  saveState(): OptimizerState<S> {
    const tensors: Record<string, SecretTensor<S>> = {};
    const counters: Record<string, number> = { t: this.t };
    this.params.forEach((p, i) => {
      const st = this.state.get(p);
      if (st === undefined) return;
      tensors[`m.${i}`] = st.m;
      tensors[`v.${i}`] = st.v;
      counters[`t.${i}`] = st.t;
    });
    return { tensors, counters };
  }

  loadState(state: OptimizerState<S>): void {
    this.state.clear();
    this.t = state.counters.t ?? 0;
    this.params.forEach((p, i) => {
      const m = state.tensors[`m.${i}`];
      const v = state.tensors[`v.${i}`];
      const t = state.counters[`t.${i}`];
      if (m !== undefined && v !== undefined && t !== undefined) this.state.set(p, { m, v, t });
    });
  }
}
