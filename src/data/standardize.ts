/**
 * Secure global standardization: x' = (x − mean) / std per column, with the mean and the population
 * standard deviation (ddof = 0) of the joint training table, computed over every owner's rows without
 * any owner revealing its own statistics.
 *
 * Protocol (three reveals, written against the Engine interface: input, add, reveal):
 *  1. every data owner inputs, as a secret-shared vector, its per-column sums Σx over its rows (zeros
 *     for columns it does not hold); the parties add the sharings locally and reveal only the total
 *     T1 = Σ over all rows. With the public row count N, mean = T1 / N.
 *  2. every owner inputs its per-column Σ(x − mean)² (centred on the now public global mean); the
 *     parties add and reveal only the total, at `sumFracBits` resolution (a coarse T2).
 *  3. the same, each column encoded at the finest public scale 2^fs_j that the coarse T2 shows cannot
 *     overflow (fs_j = 58 − ⌈log2 T2⌉, at most 60): T2 = N·var to about 2^-57 relative;
 *     std = sqrt(T2 / N).
 *
 * What is revealed: T1 and T2 (twice, at two resolutions), i.e. N·mean and N·variance. N is public
 * (the partition description fixes every owner's row count, which batching needs anyway), so this is
 * the (mean, std) the job publishes as its preprocessing parameters, plus the rounding of the coarse
 * T2 — nothing about any single owner's sums. The division by N and the square root are done in the
 * clear on these public totals (the issue allows revealing mean and std; we reveal the variance, which
 * is std², and take its square root in float64). No party's own statistics are opened: the reveals
 * are of sums of all owners' inputs, and an owner's input sharing is uniformly random to the others.
 *
 * Fixed-point range (docs/numerics.md). No secret multiplication is needed, so the only constraint
 * is that each encoded sum fits the ring: |Σ| · 2^fs < 2^62. Computing Σx² inside MPC from secret rows
 * would not work at f = 16: breast-cancer's `worst_area` reaches 4254, far above the product-safe bound
 * 2^(31−f) = 32,768 for its square 1.8·10^7, whose fixed-point product 4254²·2^32 ≈ 7.8·10^16 is close
 * to 2^62; a sum of 455 of them overflows. Squaring locally in float64 (each owner its own rows) and
 * inputting only sums avoids every secret product. Round 1 and 2 sums at fs = 16: |Σx| up to 7·10^13
 * (500,000 rows of values up to 10^8). A local sum beyond the range is refused before it is input
 * (`fixed-point-range` at that owner); lower `sumFracBits` then. The centred rounds avoid the float
 * cancellation of E[x²] − mean², and the per-column scale of round 3 gives small-variance columns
 * (breast cancer's `fractal_dimension_error`, std 0.0027) full precision, which one scale for all
 * columns cannot (Σ(x − mean)² spans 3·10^-3 .. 1.5·10^8 across the 30 columns).
 *
 * Accuracy: the mean is exact up to each owner's rounding of its Σx to 2^-(fs+1), i.e.
 * |mean error| ≤ owners·2^-(fs+1)/N (5·10^-8 for breast cancer); std to ~10^-12 relative. Tested
 * against the numpy reference at 10^-7 absolute + 10^-6 relative.
 */
import { ShareholdError } from '../errors.js';
import type { Engine } from '../protocols/engine.js';
import type { Table } from './csv.js';
import type { Partition } from './partition.js';

export interface StandardizationParams {
  readonly columns: readonly string[];
  readonly mean: Float64Array;
  /** Population std (ddof = 0); a zero-variance column gets std 1 (as sklearn's StandardScaler). */
  readonly std: Float64Array;
  readonly rows: number;
}

export interface StandardizeOptions {
  /** Joint columns to standardize (default: all except `exclude`). */
  readonly columns?: readonly string[];
  /** Columns left alone, e.g. the label. */
  readonly exclude?: readonly string[];
  /** Fractional bits of the encoded sums (default engine.f). */
  readonly sumFracBits?: number;
}

/** round(x·2^fs) per element as ring words; refuses values outside |x|·2^fs < 2^62. */
function encodeScaled(x: Float64Array, fs: readonly number[], cols: readonly string[]): BigUint64Array {
  const out = new BigUint64Array(x.length);
  for (let q = 0; q < x.length; q++) {
    const v = Math.round(x[q]! * 2 ** fs[q]!);
    if (!Number.isFinite(v) || Math.abs(v) >= 2 ** 62)
      throw new ShareholdError(
        'fixed-point-range',
        `standardize: the local sum of column '${cols[q]}' does not fit the ring at ${fs[q]} fractional bits; lower sumFracBits`,
        { column: cols[q], fracBits: fs[q] },
      );
    out[q] = BigInt.asUintN(64, BigInt(v));
  }
  return out;
}

function bad(message: string, details: Record<string, unknown> = {}): ShareholdError {
  return new ShareholdError('input-invalid', message, details);
}

/**
 * Run the protocol at every party (same program order everywhere). `local` is this party's table if
 * it is a data owner in `p`, else null. Returns the public parameters at every party.
 */
export async function secureStandardization<S>(
  e: Engine<S>,
  p: Partition,
  local: Table | null,
  opts: StandardizeOptions = {},
): Promise<StandardizationParams> {
  const exclude = opts.exclude ?? [];
  const cols = (opts.columns ?? p.columns).filter((c) => !exclude.includes(c));
  for (const c of cols) if (!p.columns.includes(c)) throw bad(`standardize: '${c}' is not a column of the partition`);
  const fs = opts.sumFracBits ?? e.f;
  const C = cols.length;
  const N = p.rows;
  if (N === 0) throw bad('standardize: the partition has no rows');
  const myOwner = p.owners.findIndex((o) => o.party === e.me);
  if (myOwner >= 0 && local === null) throw bad(`party ${e.me} is a data owner but gave no table`);
  if (myOwner >= 0 && local !== null) {
    const o = p.owners[myOwner]!;
    if (local.rows !== o.rows || local.columns.some((c, j) => c !== o.columns[j]))
      throw bad(`${local.file}: does not match party ${e.me}'s part of the partition description`, { file: local.file });
  }
  for (const o of p.owners)
    if (o.party < 0 || o.party >= e.n) throw bad(`data owner party ${o.party} is not one of the ${e.n} engine parties`);

  // local column index in my table for every selected joint column (−1: not mine)
  const idx = cols.map((c) => (myOwner >= 0 && local ? local.columns.indexOf(c) : -1));
  const localSums = (center: Float64Array | null): Float64Array => {
    const out = new Float64Array(C);
    if (!local) return out;
    const w = local.columns.length;
    for (let q = 0; q < C; q++) {
      const j = idx[q]!;
      if (j < 0) continue;
      let s = 0;
      const m = center ? center[q]! : 0;
      for (let i = 0; i < local.rows; i++) {
        const x = local.data[i * w + j]! - m;
        s += center ? x * x : x;
      }
      out[q] = s;
    }
    return out;
  };
  /** Input every owner's vector (encoded per column with `fsc` fractional bits), add, reveal the total. */
  const secureTotal = async (mine: Float64Array, fsc: readonly number[]): Promise<Float64Array> => {
    let acc: S | null = null;
    for (const o of p.owners) {
      const sh = await e.input(o.party, o.party === e.me ? encodeScaled(mine, fsc, cols) : null, C);
      acc = acc === null ? sh : e.add(acc, sh);
    }
    const opened = (await e.reveal(acc!))!;
    return Float64Array.from(opened, (w, q) => Number(BigInt.asIntN(64, w)) * 2 ** -fsc[q]!);
  };

  const base = cols.map(() => fs);
  const t1 = await secureTotal(localSums(null), base);
  const mean = t1.map((v) => v / N);
  const centred = localSums(mean);
  // Round 2: a coarse total at fs bits, only to choose each column's public scale for round 3.
  const coarse = await secureTotal(centred, base);
  // Round 3: the same sums at the finest scale that cannot overflow: every owner's Σ(x − mean)² is
  // ≥ 0 and ≤ the total ≤ coarse + owners·2^-fs, so 2^fsc·bound ≤ 2^58 leaves room for the sum.
  const fine = coarse.map((c) => {
    const bound = Math.max(c, 0) + p.owners.length * 2 ** -fs;
    return Math.min(60, Math.max(0, 58 - Math.ceil(Math.log2(bound))));
  });
  const t2 = await secureTotal(centred, [...fine]);
  const std = new Float64Array(C);
  for (let q = 0; q < C; q++) {
    const v = t2[q]! / N;
    if (v < 0) throw bad(`standardize: negative variance for column '${cols[q]}' (a sum overflowed the ring)`);
    const s = Math.sqrt(v);
    std[q] = s > 0 ? s : 1;
  }
  return { columns: cols, mean, std, rows: N };
}

/** Standardize a local table with public parameters (columns not in `params` are copied). */
export function applyStandardization(t: Table, params: StandardizationParams): Table {
  const w = t.columns.length;
  const mean = new Float64Array(w);
  const inv = new Float64Array(w).fill(1);
  t.columns.forEach((c, j) => {
    const q = params.columns.indexOf(c);
    if (q >= 0) {
      mean[j] = params.mean[q]!;
      inv[j] = params.std[q]!;
    }
  });
  const data = new Float64Array(t.data.length);
  for (let i = 0; i < t.rows; i++)
    for (let j = 0; j < w; j++) data[i * w + j] = (t.data[i * w + j]! - mean[j]!) / inv[j]!;
  return { file: t.file, columns: t.columns, rows: t.rows, data };
}

/** Plaintext reference (float64, two-pass) over a joint table, for tests and plaintext runs. */
export function plainStandardization(columns: readonly string[], rows: number, data: Float64Array): StandardizationParams {
  const w = columns.length;
  const mean = new Float64Array(w);
  const std = new Float64Array(w);
  for (let j = 0; j < w; j++) {
    let s = 0;
    for (let i = 0; i < rows; i++) s += data[i * w + j]!;
    const m = s / rows;
    let v = 0;
    for (let i = 0; i < rows; i++) v += (data[i * w + j]! - m) ** 2;
    mean[j] = m;
    const sd = Math.sqrt(v / rows);
    std[j] = sd > 0 ? sd : 1;
  }
  return { columns, mean, std, rows };
}
