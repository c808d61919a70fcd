/**
 * softmax and log-softmax over the rows of a [rows × cols] matrix (row-major flat vector), and argmax.
 *
 * Method: m = row max (engine.maxArgmax), d = x − m ≤ 0, clamped to d ≥ −16 with one ReLU (e^−16 is
 * below one ulp at f = 16, and exp is only valid on [−16, 16]); u = exp(d) (8 rounds); s = Σ_row u ∈
 * [1, cols]; softmax = u · (1/s) with the reciprocal normalized over [1, 2^⌈log2 cols⌉+1];
 * log-softmax = d − log(s). The stabilizing max subtraction is CrypTen's ([CrypTen] Knott et al. 2021).
 * Input range: any representable x. Accuracy (measured): softmax absolute error ≤ 10^-3, log-softmax
 * absolute error ≤ 10^-3 for entries ≥ −16 relative to the row max.
 * Rounds (rep3, online, 20 × 10 in the test): softmax 76, log-softmax 72 (maxArgmax dominates: a
 * tournament over the columns; then ReLU clamp + 8 (exp) + reciprocal or log on the row sums).
 */
import type { Engine } from '../../protocols/engine.js';
import { exp } from './exp.js';
import { log } from './log.js';
import { newtonRecip, normalizer } from './reciprocal.js';
import { fill, fx } from './util.js';

function rowIndex(rows: number, cols: number): Int32Array {
  return Int32Array.from({ length: rows * cols }, (_, k) => Math.floor(k / cols));
}

async function shifted<S>(e: Engine<S>, x: S, rows: number, cols: number): Promise<{ d: S; u: S; s: S }> {
  const n = rows * cols;
  if (e.length(x) !== n) throw new Error(`softmax: length ${e.length(x)} is not ${rows}×${cols}`);
  const { max } = await e.maxArgmax(x, rows, cols);
  const d0 = e.sub(x, e.gather(max, rowIndex(rows, cols)));
  const R = fx(16, e.f);
  const { y } = await e.relu(e.addPublic(d0, fill(n, R)));
  const d = e.addPublic(y, fill(n, -R));
  const u = await exp(e, d);
  let s = e.gather(
    u,
    Int32Array.from({ length: rows }, (_, i) => i * cols),
  );
  for (let j = 1; j < cols; j++)
    s = e.add(
      s,
      e.gather(
        u,
        Int32Array.from({ length: rows }, (_, i) => i * cols + j),
      ),
    );
  return { d, u, s };
}

function hiExp(cols: number): number {
  return Math.ceil(Math.log2(cols)) + 1;
}

export async function softmax<S>(e: Engine<S>, x: S, rows: number, cols: number): Promise<S> {
  const { u, s } = await shifted(e, x, rows, cols);
  const { alpha } = await normalizer(e, s, 0, hiExp(cols));
  const z = await e.mulFixed(s, alpha);
  const inv = await newtonRecip(e, z, alpha);
  return e.mulFixed(u, e.gather(inv, rowIndex(rows, cols)));
}

export async function logSoftmax<S>(e: Engine<S>, x: S, rows: number, cols: number): Promise<S> {
  const { d, s } = await shifted(e, x, rows, cols);
  const ls = await log(e, s, { lo: 0, hi: hiExp(cols) });
  return e.sub(d, e.gather(ls, rowIndex(rows, cols)));
}

/** Row-wise argmax, exactly as engine.maxArgmax reports it. */
export async function argmax<S>(e: Engine<S>, x: S, rows: number, cols: number): Promise<S> {
  return (await e.maxArgmax(x, rows, cols)).argmax;
}
