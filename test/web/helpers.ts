/** Shared by the dashboard tests: free ports (test/net/ports.ts), and the float64 oracle of the example logistic regression. */
import { readFileSync } from 'node:fs';

export { freePort, freePortPair } from '../net/ports.js';

/**
 * Float64 logistic regression as examples/breast-cancer-logreg.yaml trains it: the CSVs' rows in file
 * order (concatenated), global standardization (population std), zero init, mini-batch SGD (batch 35,
 * lr 0.1, no shuffle). Per epoch: the mean binary cross-entropy over all rows after the epoch's
 * updates (what ml.train reports each epoch) and the training accuracy.
 */
export function plaintextCurve(
  csvs: string[],
  epochs: number,
): { epoch: number; loss: number; accuracy: number }[] {
  const X: number[][] = [];
  const y: number[] = [];
  for (const csv of csvs) {
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    const li = lines[0]!.split(',').indexOf('label');
    for (const l of lines.slice(1)) {
      const r = l.split(',').map(Number);
      X.push(r.filter((_, j) => j !== li));
      y.push(r[li]!);
    }
  }
  const d = X[0]!.length;
  const mean = Array.from({ length: d }, (_, j) => X.reduce((s, r) => s + r[j]!, 0) / X.length);
  const sd = Array.from({ length: d }, (_, j) =>
    Math.sqrt(X.reduce((s, r) => s + (r[j]! - mean[j]!) ** 2, 0) / X.length),
  );
  const Z = X.map((r) => r.map((v, j) => (sd[j]! > 0 ? (v - mean[j]!) / sd[j]! : 0)));
  const w = new Float64Array(d);
  let b = 0;
  const p = (z: number[]): number => 1 / (1 + Math.exp(-(z.reduce((s, v, j) => s + v * w[j]!, 0) + b)));
  const out: { epoch: number; loss: number; accuracy: number }[] = [];
  for (let e = 1; e <= epochs; e++) {
    for (let s = 0; s < Z.length; s += 35) {
      const gw = new Float64Array(d);
      let gb = 0;
      const end = Math.min(s + 35, Z.length);
      for (let i = s; i < end; i++) {
        const err = p(Z[i]!) - y[i]!;
        for (let j = 0; j < d; j++) gw[j]! += err * Z[i]![j]!;
        gb += err;
      }
      for (let j = 0; j < d; j++) w[j]! -= (0.1 * gw[j]!) / (end - s);
      b -= (0.1 * gb) / (end - s);
    }
    let loss = 0;
    let right = 0;
    for (let i = 0; i < Z.length; i++) {
      const q = Math.min(Math.max(p(Z[i]!), 1e-12), 1 - 1e-12);
      loss -= y[i]! * Math.log(q) + (1 - y[i]!) * Math.log(1 - q);
      if ((q >= 0.5 ? 1 : 0) === y[i]) right++;
    }
    out.push({ epoch: e, loss: loss / Z.length, accuracy: right / Z.length });
  }
  return out;
}
