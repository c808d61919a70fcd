/**
 * Mini-batch training loop over secret tensors: batches are consecutive rows in order (batch k of
 * every epoch = rows [k·B, (k+1)·B)), no shuffling, the last partial batch kept. Slicing a batch is
 * local; each step is forward, loss gradient, backward, optimizer step. The model stays
 * secret-shared; reveal its parameters only to the parties the job names.
 */
import { SecretTensor } from '../tensor/tensor.js';
import type { Module } from './modules/module.js';
import type { Loss } from './modules/loss.js';
import type { Optimizer } from './modules/optim.js';

export interface FitOptions<S = unknown> {
  readonly batchSize: number;
  readonly epochs: number;
  /** Called after every step (e.g. progress). */
  readonly onStep?: (epoch: number, batch: number) => void;
  /** Awaited before every epoch (e.g. the offline phase for its steps). */
  readonly onEpochStart?: (epoch: number) => Promise<void>;
  /** Awaited after every step. */
  readonly afterStep?: (epoch: number, batch: number) => Promise<void>;
  /** Awaited after every epoch (e.g. a secure loss over the training set). */
  readonly onEpochEnd?: (epoch: number) => Promise<void>;
  /**
   * A public row order per epoch (a permutation of [0, n)); default: file order. Gathering the rows
   * is local (a public permutation of the shares).
   */
  readonly order?: (epoch: number) => Int32Array;
  /**
   * A tensor with the same rows as x, batched (and ordered) like it; each batch goes to `onBatch`
   * before its step (e.g. a pre-scaled copy of the input for the first layer's gradient).
   */
  readonly aux?: SecretTensor<S>;
  readonly onBatch?: (auxBatch: SecretTensor<S>) => void;
}

export async function fit<S>(
  model: Module<S>,
  loss: Loss<S>,
  optimizer: Optimizer<S>,
  x: SecretTensor<S>,
  y: SecretTensor<S>,
  opts: FitOptions<S>,
): Promise<void> {
  const n = x.shape[0]!;
  if (y.shape[0] !== n) throw new Error(`fit: ${n} input rows but ${y.shape[0]} target rows`);
  const B = opts.batchSize;
  const batches = Math.ceil(n / B);
  // a loss that takes pre-scaled targets: y·1/N for full batches (and for the last, shorter one)
  // once here, one round in all, instead of a scaling truncation every step
  const ps = loss.prescaled;
  const outW = y.size / n;
  const lastRows = n - (batches - 1) * B;
  const cFull = 1 / (B * outW);
  const cLast = 1 / (lastRows * outW);
  // (with a row order per epoch any row can land in the last batch; without one, only its rows)
  const lastFrom = opts.order ? 0 : n - lastRows;
  const [yFull, yLast] = ps
    ? await Promise.all([
        ps.scale(y, cFull),
        lastRows === B ? null : ps.scale(lastFrom > 0 ? y.slice(0, lastFrom, n) : y, cLast),
      ])
    : [null, null];
  // In file order, batch k is the same rows every epoch: its slices (copies) are made in the first
  // epoch and reused, unless that would hold more than BATCH_CACHE_ELEMENTS extra elements.
  const cached =
    !opts.order &&
    x.size + y.size + (opts.aux?.size ?? 0) + (yFull?.size ?? 0) + (yLast?.size ?? 0) <= BATCH_CACHE_ELEMENTS;
  const memo = new Map<SecretTensor<S>, SecretTensor<S>[]>();
  const rows = (t: SecretTensor<S>, k: number, from: number, to: number): SecretTensor<S> => {
    if (!cached) return t.slice(0, from, to);
    let ts = memo.get(t);
    if (ts === undefined) memo.set(t, (ts = []));
    return (ts[k] ??= t.slice(0, from, to));
  };
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    await opts.onEpochStart?.(epoch);
    const perm = opts.order?.(epoch);
    const xe = perm ? gatherRows(x, perm) : x;
    const ye = perm ? gatherRows(y, perm) : y;
    const aux = opts.aux;
    const ae = aux && perm ? gatherRows(aux, perm) : aux;
    const yfe = yFull && perm ? gatherRows(yFull, perm) : yFull;
    const yle = yLast && perm ? gatherRows(yLast, perm) : yLast;
    for (let k = 0; k < batches; k++) {
      const end = Math.min(n, (k + 1) * B);
      const xb = rows(xe, k, k * B, end);
      const last = k === batches - 1;
      const ys =
        last && yle
          ? rows(yle, k, k * B - lastFrom, end - lastFrom)
          : yfe
            ? rows(yfe, k, k * B, end)
            : undefined;
      if (ae) opts.onBatch?.(rows(ae, k, k * B, end));
      optimizer.zeroGrad();
      const out = await model.forward(xb);
      const g =
        ps && ys
          ? await ps.grad(out, ys, last ? cLast : cFull)
          : await loss.grad(out, rows(ye, k, k * B, end));
      await model.backward(g);
      await optimizer.step();
      opts.onStep?.(epoch, k);
      await opts.afterStep?.(epoch, k);
    }
    await opts.onEpochEnd?.(epoch);
  }
}

/** Most elements (over x, y, aux and the scaled targets) whose batches `fit` keeps across epochs. */
export const BATCH_CACHE_ELEMENTS = 1 << 21;

/** Rows of a [n, ...] tensor in the public order `perm` (local). */
function gatherRows<S>(t: SecretTensor<S>, perm: Int32Array): SecretTensor<S> {
  const n = t.shape[0]!;
  if (perm.length !== n) throw new Error(`fit: row order has ${perm.length} entries for ${n} rows`);
  const w = t.size / n;
  const idx = new Int32Array(t.size);
  for (let i = 0; i < n; i++) for (let j = 0; j < w; j++) idx[i * w + j] = perm[i]! * w + j;
  return SecretTensor.fromShare(t.engine, t.engine.gather(t.share, idx), t.shape);
}
