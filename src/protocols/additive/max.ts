/**
 * Row-wise maximum and argmax of a row-major [rows × cols] secret matrix by a tournament:
 * ⌈log2 cols⌉ levels, each one batched sign test of the differences (8 rounds) and one batched
 * multiplexer multiplication (1 round) over every row and pair at once; the index rides along in the
 * same multiplication. Ties resolve to the lowest index. All levels' preprocessed material is
 * reserved before the first level starts (program order).
 * Security: semi-honest, dishonest majority.
 */
import type { OpScope } from '../channel.js';
import { invalidArgument } from '../../errors.js';
import { fromInts } from '../../math/fixed.js';
import { addA, concatA, gatherA, publicA, sliceA, subA, type AddA } from '../../sharing/additive/additive.js';
import type { AddCtx } from './context.js';
import { ltz, type CompareMaterial } from './compare.js';
import { mulA } from './beaver.js';
import type { Triples } from './prep.js';

export interface MaxMaterial {
  readonly compare: (n: number) => CompareMaterial;
  readonly triples: (n: number) => Promise<Triples>;
}

export async function maxArgmax(
  ctx: AddCtx,
  scope: OpScope,
  x: AddA,
  rows: number,
  cols: number,
  mat: MaxMaterial,
): Promise<{ max: AddA; argmax: AddA }> {
  if (
    !Number.isInteger(rows) ||
    !Number.isInteger(cols) ||
    rows < 1 ||
    cols < 1 ||
    x.v.length !== rows * cols
  )
    throw invalidArgument(`max: ${x.v.length} elements is not ${rows}x${cols}`);
  const reserved: { cmp: CompareMaterial; tri: Promise<Triples> }[] = [];
  for (let w = cols; w > 1; w = (w >>> 1) + (w & 1)) {
    const m = rows * (w >>> 1);
    reserved.push({ cmp: mat.compare(m), tri: mat.triples(2 * m) });
  }
  const idxPlain = new Array<number>(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) idxPlain[r * cols + c] = c;
  let val = x;
  let idx = publicA(ctx.me, fromInts(idxPlain));
  let width = cols;
  let level = 0;
  while (width > 1) {
    const half = width >>> 1;
    const odd = width & 1;
    const newW = half + odd;
    const lo = new Int32Array(rows * half);
    const hi = new Int32Array(rows * half);
    for (let r = 0; r < rows; r++)
      for (let k = 0; k < half; k++) {
        lo[r * half + k] = r * width + 2 * k;
        hi[r * half + k] = r * width + 2 * k + 1;
      }
    const vl = gatherA(val, lo);
    const vh = gatherA(val, hi);
    const il = gatherA(idx, lo);
    const ih = gatherA(idx, hi);
    const s = scope.child(`lvl${level}`);
    const res = reserved[level++]!;
    const m = rows * half;
    // b = [vl < vh]; winner = lo + b·(hi − lo), value and index in one multiplication
    const b = await ltz(ctx, s.child('cmp'), subA(vl, vh), res.cmp);
    const prod = await mulA(
      ctx,
      s.child('mux'),
      concatA([b, b]),
      concatA([subA(vh, vl), subA(ih, il)]),
      res.tri,
    );
    const nv = addA(vl, sliceA(prod, 0, m));
    const ni = addA(il, sliceA(prod, m, 2 * m));
    if (odd) {
      // the odd last element of each row carries over
      const pick = new Int32Array(rows * newW);
      const src = concatA([nv, val]);
      const srcI = concatA([ni, idx]);
      for (let r = 0; r < rows; r++) {
        for (let k = 0; k < half; k++) pick[r * newW + k] = r * half + k;
        pick[r * newW + half] = m + r * width + width - 1;
      }
      val = gatherA(src, pick);
      idx = gatherA(srcI, pick);
    } else {
      val = nv;
      idx = ni;
    }
    width = newW;
  }
  return { max: val, argmax: idx };
}
