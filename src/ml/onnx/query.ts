/**
 * Query files for inference: a JSON array of input rows, or an object with an `inputs` array (the
 * shape of data/onnx/*.io.json). A row is one sample, flat (row-major) or nested; it must have as many
 * numbers as one sample of the model's input (every dimension but the batch).
 */
import { readFileSync } from 'node:fs';
import { ShareholdError } from '../../errors.js';
import type { Dim } from './ir.js';

export interface QueryRows {
  /** One flat row-major Float64Array per sample. */
  readonly rows: Float64Array[];
}

function flattenRow(v: unknown, out: number[], where: string): void {
  if (typeof v === 'number') {
    if (!Number.isFinite(v))
      throw new ShareholdError('input-invalid', `${where}: ${v} is not a finite number`);
    out.push(v);
    return;
  }
  if (Array.isArray(v)) {
    for (const x of v) flattenRow(x, out, where);
    return;
  }
  throw new ShareholdError(
    'input-invalid',
    `${where}: expected numbers, found ${JSON.stringify(v)?.slice(0, 40)}`,
  );
}

/** Parse the text of a query file (`source` names it in errors). */
export function parseQuery(text: string, source = 'input'): QueryRows {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ShareholdError('input-invalid', `${source} is not valid JSON: ${(e as Error).message}`);
  }
  const list = Array.isArray(doc)
    ? doc
    : doc !== null && typeof doc === 'object'
      ? (doc as { inputs?: unknown }).inputs
      : undefined;
  if (!Array.isArray(list))
    throw new ShareholdError(
      'input-invalid',
      `${source}: expected a JSON array of input rows or an object with an "inputs" array`,
    );
  if (list.length === 0) throw new ShareholdError('input-invalid', `${source}: no input rows`);
  const rows = list.map((row, i) => {
    const flat: number[] = [];
    flattenRow(row, flat, `${source} row ${i}`);
    return Float64Array.from(flat);
  });
  return { rows };
}

/** Read and parse a query file. */
export function readQuery(path: string): QueryRows {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ShareholdError(
      'input-invalid',
      `cannot read input file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  return parseQuery(text, path);
}

/**
 * Check the rows against a model input shape (first dim = batch) and return the batch tensor's shape
 * and data. Throws `input-invalid` naming the first bad row.
 */
export function queryTensor(
  q: QueryRows,
  inputShape: readonly Dim[],
  source = 'input',
): { shape: number[]; data: Float64Array } {
  const sample = inputShape.slice(1);
  if (sample.some((d) => typeof d !== 'number'))
    throw new ShareholdError(
      'input-invalid',
      `the model input has symbolic non-batch dimensions [${inputShape}]`,
    );
  const width = (sample as number[]).reduce((a, b) => a * b, 1);
  q.rows.forEach((r, i) => {
    if (r.length !== width)
      throw new ShareholdError(
        'input-invalid',
        `${source} row ${i} has ${r.length} values; the model expects ${width} per sample (shape [${sample.join(', ')}])`,
      );
  });
  const data = new Float64Array(q.rows.length * width);
  q.rows.forEach((r, i) => data.set(r, i * width));
  const batch = inputShape[0];
  if (typeof batch === 'number' && batch !== q.rows.length)
    throw new ShareholdError(
      'input-invalid',
      `${source} has ${q.rows.length} rows; the model has a fixed batch of ${batch}`,
    );
  return { shape: [q.rows.length, ...(sample as number[])], data };
}

/** The largest |value| of a query (the querier checks it against the declared public bound). */
export function queryMaxAbs(q: QueryRows): number {
  let m = 0;
  for (const r of q.rows) for (let i = 0; i < r.length; i++) m = Math.max(m, Math.abs(r[i]!));
  return m;
}
