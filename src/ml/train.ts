/**
 * Mini-batch training loop over secret tensors: batches are consecutive rows in order (batch k of
 * every epoch = rows [k·B, (k+1)·B)), no shuffling, the last partial batch kept. Slicing a batch is
 * local; each step is forward, loss gradient, backward, optimizer step. The model stays
 * secret-shared; reveal its parameters only to the parties the job names.
 */
import type { SecretTensor } from '../tensor/tensor.js';
import type { Module } from './modules/module.js';
import type { Loss } from './modules/loss.js';
import type { Optimizer } from './modules/optim.js';

export interface FitOptions {
  readonly batchSize: number;
  readonly epochs: number;
  /** Called after every step (e.g. progress). */
  readonly onStep?: (epoch: number, batch: number) => void;
}

export async function fit<S>(
  model: Module<S>,
  loss: Loss<S>,
  optimizer: Optimizer<S>,
  x: SecretTensor<S>,
  y: SecretTensor<S>,
  opts: FitOptions,
): Promise<void> {
  const n = x.shape[0]!;
  if (y.shape[0] !== n) throw new Error(`fit: ${n} input rows but ${y.shape[0]} target rows`);
  const B = opts.batchSize;
  const batches = Math.ceil(n / B);
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (let k = 0; k < batches; k++) {
      const end = Math.min(n, (k + 1) * B);
      const xb = x.slice(0, k * B, end);
      const yb = y.slice(0, k * B, end);
      optimizer.zeroGrad();
      const out = await model.forward(xb);
      await model.backward(await loss.grad(out, yb));
      await optimizer.step();
      opts.onStep?.(epoch, k);
    }
  }
}
