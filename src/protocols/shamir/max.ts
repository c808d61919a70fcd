/**
 * Maximum and argmax along the last axis of a row-major [rows × cols] Shamir-shared matrix, by a
 * tournament: ⌈log2 cols⌉ levels, each one batched comparison ltz(v_lo − v_hi) (7 rounds) and one
 * batched multiplexer multiplication (1 round) over every row and pair at once; the index travels
 * through the same multiplexer, so argmax costs no extra round. Ties resolve to the lowest index.
 * Needs |v_lo − v_hi| < 2^63. Material per level: one comparison mask and LTZ_MULTS + 2 double sharings
 * per compared pair, reserved by the caller for all levels at once.
 * Security: semi-honest, honest majority.
 */
import * as F from '../../math/field.js';
import type { Fp } from '../../math/field.js';
import { invalidArgument } from '../../errors.js';
import type { OpScope } from '../channel.js';
import type { ShamirCtx } from './context.js';
import { ltz } from './compare.js';
import { mul, type Doubles } from './mul.js';
import type { Masks } from './prep.js';

/** Compared pairs per level (rows·⌊w/2⌋ for each width w > 1). */
export function maxLevels(rows: number, cols: number): number[] {
  const out: number[] = [];
  for (let w = cols; w > 1; w = (w >>> 1) + (w & 1)) out.push(rows * (w >>> 1));
  return out;
}

export interface LevelMaterial {
  readonly masks: Promise<Masks>;
  readonly cmp: Promise<Doubles>;
  readonly mux: Promise<Doubles>;
}

export async function maxArgmax(
  ctx: ShamirCtx,
  scope: OpScope,
  x: Fp,
  rows: number,
  cols: number,
  levels: readonly LevelMaterial[],
): Promise<{ max: Fp; argmax: Fp }> {
  if (F.fpLen(x) !== rows * cols || cols < 1)
    throw invalidArgument(`max: ${F.fpLen(x)} elements is not ${rows}x${cols}`);
  const idx0: bigint[] = [];
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) idx0.push(BigInt(c));
  let val = x;
  let idx = F.fromBigInts(idx0);
  let width = cols;
  let level = 0;
  while (width > 1) {
    const half = width >>> 1;
    const newW = half + (width & 1);
    const lo = new Int32Array(rows * half);
    const hi = new Int32Array(rows * half);
    for (let r = 0; r < rows; r++)
      for (let k = 0; k < half; k++) {
        lo[r * half + k] = r * width + 2 * k;
        hi[r * half + k] = r * width + 2 * k + 1;
      }
    const vl = F.gather(val, lo);
    const vh = F.gather(val, hi);
    const il = F.gather(idx, lo);
    const ih = F.gather(idx, hi);
    const mat = levels[level]!;
    const s = scope.child(`lvl${level++}`);
    // b = [vl < vh]; winner = lo + b·(hi − lo), for value and index in one multiplication
    const b = await ltz(ctx, s.child('cmp'), F.sub(vl, vh), await mat.masks, await mat.cmp);
    const m = rows * half;
    const prod = await mul(
      ctx,
      s.child('mux').id,
      F.concat([b, b]),
      F.concat([F.sub(vh, vl), F.sub(ih, il)]),
      await mat.mux,
    );
    const nv = F.add(vl, prod.subarray(0, 2 * m));
    const ni = F.add(il, prod.subarray(2 * m, 4 * m));
    const pv = F.zeros(rows * newW);
    const pi = F.zeros(rows * newW);
    for (let r = 0; r < rows; r++) {
      pv.set(nv.subarray(2 * r * half, 2 * (r + 1) * half), 2 * r * newW);
      pi.set(ni.subarray(2 * r * half, 2 * (r + 1) * half), 2 * r * newW);
      if (width & 1) {
        const o = r * width + width - 1;
        pv.set(val.subarray(2 * o, 2 * o + 2), 2 * (r * newW + half));
        pi.set(idx.subarray(2 * o, 2 * o + 2), 2 * (r * newW + half));
      }
    }
    val = pv;
    idx = pi;
    width = newW;
  }
  return { max: val, argmax: idx };
}
