/**
 * Maximum and argmax along the last axis of a row-major [rows × cols] secret matrix by a tournament,
 * written once over a scheme's share operations (rep4 uses it; it depends on nothing rep4-specific).
 * ⌈log2 cols⌉ levels, each one batched comparison and one batched multiplexer multiplication over
 * every row and pair at once; the index travels through the same multiplexer (no extra round).
 * Ties resolve to the lowest index. Rounds per level: the comparison's + 1 (rep4: 9 + 1 with daBits).
 * Security: that of the comparison and multiplication used.
 */
import { fromInts } from '../../math/fixed.js';
import type { OpScope } from '../channel.js';
import { invalidArgument } from '../../errors.js';

export interface TournamentOps<S> {
  length(x: S): number;
  gather(x: S, idx: Int32Array): S;
  concat(xs: readonly S[]): S;
  slice(x: S, start: number, end: number): S;
  add(x: S, y: S): S;
  sub(x: S, y: S): S;
  constant(c: BigUint64Array): S;
  /** [x < 0] at tournament level `level` (material for every level is reserved up front). */
  ltz(scope: OpScope, x: S, level: number): Promise<S>;
  mul(scope: OpScope, x: S, y: S): Promise<S>;
}

/** Number of comparisons at each level of a tournament over `cols` columns and `rows` rows. */
export function tournamentLevels(rows: number, cols: number): number[] {
  const sizes: number[] = [];
  for (let w = cols; w > 1; w = (w >>> 1) + (w & 1)) sizes.push(rows * (w >>> 1));
  return sizes;
}

/** Row-wise max and argmax (index as an integer sharing). */
export async function maxArgmax<S>(
  ops: TournamentOps<S>,
  scope: OpScope,
  x: S,
  rows: number,
  cols: number,
): Promise<{ max: S; argmax: S }> {
  if (ops.length(x) !== rows * cols || cols < 1 || rows < 1)
    throw invalidArgument(`max: ${ops.length(x)} elements is not ${rows}x${cols}`);
  const idxPlain = new Array<number>(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) idxPlain[r * cols + c] = c;
  let val = x;
  let idx = ops.constant(fromInts(idxPlain));
  let width = cols;
  let level = 0;
  while (width > 1) {
    const half = width >>> 1;
    const lo = new Int32Array(rows * half);
    const hi = new Int32Array(rows * half);
    for (let r = 0; r < rows; r++)
      for (let k = 0; k < half; k++) {
        lo[r * half + k] = r * width + 2 * k;
        hi[r * half + k] = r * width + 2 * k + 1;
      }
    const vl = ops.gather(val, lo);
    const vh = ops.gather(val, hi);
    const il = ops.gather(idx, lo);
    const ih = ops.gather(idx, hi);
    const s = scope.child(`lvl${level}`);
    // b = [vl < vh]; winner = lo + b·(hi − lo), for value and index in one multiplication
    const b = await ops.ltz(s.child('cmp'), ops.sub(vl, vh), level);
    level++;
    const m = rows * half;
    const prod = await ops.mul(
      s.child('mux'),
      ops.concat([b, b]),
      ops.concat([ops.sub(vh, vl), ops.sub(ih, il)]),
    );
    const nv = ops.add(vl, ops.slice(prod, 0, m));
    const ni = ops.add(il, ops.slice(prod, m, 2 * m));
    if (width & 1) {
      // the odd last element of each row carries over to the next level
      const odd = new Int32Array(rows);
      for (let r = 0; r < rows; r++) odd[r] = r * width + width - 1;
      const newW = half + 1;
      const order = new Int32Array(rows * newW);
      for (let r = 0; r < rows; r++) {
        for (let k = 0; k < half; k++) order[r * newW + k] = r * half + k;
        order[r * newW + half] = m + r;
      }
      val = ops.gather(ops.concat([nv, ops.gather(val, odd)]), order);
      idx = ops.gather(ops.concat([ni, ops.gather(idx, odd)]), order);
      width = newW;
    } else {
      val = nv;
      idx = ni;
      width = half;
    }
  }
  return { max: val, argmax: idx };
}
