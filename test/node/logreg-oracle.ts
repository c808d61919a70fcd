/** Float64 oracle: global standardization, logistic regression, mini-batch SGD in file order. */
export function logregOracle(
  x: Float64Array[],
  y: number[],
  epochs: number,
  lr: number,
  batch: number,
): number[] {
  const d = x[0]!.length;
  const n = x.length;
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  for (const r of x) for (let j = 0; j < d; j++) mean[j]! += r[j]! / n;
  for (const r of x) for (let j = 0; j < d; j++) sd[j]! += (r[j]! - mean[j]!) ** 2 / n;
  for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j]!);
  const xs = x.map((r) => r.map((v, j) => (v - mean[j]!) / sd[j]!));
  const w = new Float64Array(d);
  let b = 0;
  for (let ep = 0; ep < epochs; ep++)
    for (let s = 0; s < n; s += batch) {
      const e = Math.min(n, s + batch);
      const gw = new Float64Array(d);
      let gb = 0;
      for (let i = s; i < e; i++) {
        let z = b;
        for (let j = 0; j < d; j++) z += w[j]! * xs[i]![j]!;
        const g = (1 / (1 + Math.exp(-z)) - y[i]!) / (e - s);
        for (let j = 0; j < d; j++) gw[j]! += g * xs[i]![j]!;
        gb += g;
      }
      for (let j = 0; j < d; j++) w[j]! -= lr * gw[j]!;
      b -= lr * gb;
    }
  return [...w, b];
}
