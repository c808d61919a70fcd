/**
 * Maximum and argmax along the last axis of a row-major [rows × cols] secret matrix, by a tournament:
 * ⌈log2 cols⌉ levels, each one batched comparison (9 rounds with daBits) and one batched multiplexer
 * multiplication (1 round) over every row and pair at once. Bytes per level ≈ (31 + 16)·rows·⌊cols/2⌋.
 * The index travels through the same multiplexer, so argmax costs no extra round.
 * Ties resolve to the lowest index. Security: semi-honest, honest majority.
 */
import type { OpScope } from '../channel.js';
import type { Rep3A } from '../../sharing/replicated/rep3.js';
import { concatA, publicA, sliceA, subA, addA } from '../../sharing/replicated/rep3.js';
import { fromInts } from '../../math/fixed.js';
import { invalidArgument } from '../../errors.js';
import type { Rep3Ctx } from './context.js';
import { ltz, type DaBitSource } from './compare.js';
import { mulA } from './mul.js';
import { sliceDaBits } from './b2a.js';

function gather(x: Rep3A, idx: Int32Array): Rep3A {
  const a = new BigUint64Array(idx.length);
  const b = new BigUint64Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    a[i] = x.a[idx[i]!]!;
    b[i] = x.b[idx[i]!]!;
  }
  return { a, b };
}

/** Row-wise max and argmax (index as an integer sharing). */
export async function maxArgmax(
  ctx: Rep3Ctx,
  scope: OpScope,
  x: Rep3A,
  rows: number,
  cols: number,
  da: DaBitSource = null,
): Promise<{ max: Rep3A; argmax: Rep3A }> {
  if (x.a.length !== rows * cols || cols < 1)
    throw invalidArgument(`max: ${x.a.length} elements is not ${rows}x${cols}`);
  const idxPlain = new Array<number>(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) idxPlain[r * cols + c] = c;
  // reserve every level's daBits now (synchronously, in program order), 32-aligned per level
  const levelSizes: number[] = [];
  for (let w = cols; w > 1; w = (w >>> 1) + (w & 1)) levelSizes.push(rows * (w >>> 1));
  const offsets: number[] = [];
  let total = 0;
  for (const m of levelSizes) {
    offsets.push(total);
    total += Math.ceil(m / 32) * 32;
  }
  const pool = da && total > 0 ? da(total) : null;
  let val = x;
  let idx = publicA(ctx.me, fromInts(idxPlain));
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
    const vl = gather(val, lo);
    const vh = gather(val, hi);
    const il = gather(idx, lo);
    const ih = gather(idx, hi);
    const s = scope.child(`lvl${level++}`);
    // b = [vl < vh]; winner = lo + b·(hi − lo), for value and index in one multiplication
    const off = offsets[level - 1]!;
    const levelDa: DaBitSource = pool ? async (m) => sliceDaBits(await pool, off, off + m) : null;
    const b = await ltz(ctx, s.child('cmp'), subA(vl, vh), levelDa);
    const m = rows * half;
    const prod = await mulA(ctx, s.child('mux'), concatA([b, b]), concatA([subA(vh, vl), subA(ih, il)]));
    const nv = addA(vl, sliceA(prod, 0, m));
    const ni = addA(il, sliceA(prod, m, 2 * m));
    if (width & 1) {
      // odd element carries over
      const odd = new Int32Array(rows);
      for (let r = 0; r < rows; r++) odd[r] = r * width + width - 1;
      const newW = half + 1;
      const pv = { a: new BigUint64Array(rows * newW), b: new BigUint64Array(rows * newW) };
      const pi = { a: new BigUint64Array(rows * newW), b: new BigUint64Array(rows * newW) };
      const ov = gather(val, odd);
      const oi = gather(idx, odd);
      for (let r = 0; r < rows; r++) {
        for (let k = 0; k < half; k++) {
          pv.a[r * newW + k] = nv.a[r * half + k]!;
          pv.b[r * newW + k] = nv.b[r * half + k]!;
          pi.a[r * newW + k] = ni.a[r * half + k]!;
          pi.b[r * newW + k] = ni.b[r * half + k]!;
        }
        pv.a[r * newW + half] = ov.a[r]!;
        pv.b[r * newW + half] = ov.b[r]!;
        pi.a[r * newW + half] = oi.a[r]!;
        pi.b[r * newW + half] = oi.b[r]!;
      }
      val = pv;
      idx = pi;
      width = newW;
    } else {
      val = nv;
      idx = ni;
      width = half;
    }
  }
  return { max: val, argmax: idx };
}
