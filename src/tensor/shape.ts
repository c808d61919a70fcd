/**
 * Shape arithmetic for the tensor layer: sizes, row-major strides, NumPy broadcasting, and the public
 * index maps (Int32Array) that turn a shape operation into one local `engine.gather`.
 */
import { invalidArgument } from '../errors.js';

export type Shape = readonly number[];

export function checkShape(shape: Shape): void {
  for (const d of shape)
    if (!Number.isInteger(d) || d < 0) throw invalidArgument(`invalid shape [${shape.join(', ')}]`);
}

export function sizeOf(shape: Shape): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

export function stridesOf(shape: Shape): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = s;
    s *= shape[i]!;
  }
  return st;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Normalise a possibly negative axis for a tensor of rank `ndim`. */
export function normAxis(axis: number, ndim: number): number {
  const a = axis < 0 ? axis + ndim : axis;
  if (!Number.isInteger(a) || a < 0 || a >= ndim)
    throw invalidArgument(`axis ${axis} out of range for a rank-${ndim} tensor`);
  return a;
}

/** NumPy broadcasting: align trailing dimensions; each pair must be equal or contain a 1. */
export function broadcastShapes(...shapes: Shape[]): number[] {
  const nd = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(nd).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = nd - s.length + i;
      const d = s[i]!;
      if (d === out[j] || d === 1) continue;
      if (out[j] === 1) out[j] = d;
      else
        throw invalidArgument(
          `shapes ${shapes.map((x) => `[${x.join(', ')}]`).join(' and ')} cannot be broadcast together`,
        );
    }
  }
  return out;
}

/**
 * For each element of `to` (row-major), the index of the element of a tensor of shape `from` that
 * broadcasting maps there. `from` must broadcast to `to`.
 */
export function broadcastIndex(from: Shape, to: Shape): Int32Array {
  if (from.length > to.length)
    throw invalidArgument(`cannot broadcast [${from.join(', ')}] to [${to.join(', ')}]`);
  const off = to.length - from.length;
  const fst = stridesOf(from);
  const st = new Array<number>(to.length).fill(0);
  for (let i = 0; i < from.length; i++) {
    const d = from[i]!;
    if (d !== to[off + i] && d !== 1)
      throw invalidArgument(`cannot broadcast [${from.join(', ')}] to [${to.join(', ')}]`);
    st[off + i] = d === 1 ? 0 : fst[i]!;
  }
  return stridedIndex(to, st, 0);
}

/**
 * Row-major walk over `shape` emitting base + Σ idx_i·strides_i: one tight run per position of the
 * outer axes along the last axis (these maps are built once per shape, often by code that has not
 * been optimised yet, so the per-element work is kept to a store and an add).
 */
export function stridedIndex(shape: Shape, strides: readonly number[], base: number): Int32Array {
  const total = sizeOf(shape);
  const out = new Int32Array(total);
  const nd = shape.length;
  if (total === 0) return out;
  if (nd === 0) {
    out[0] = base;
    return out;
  }
  const inner = shape[nd - 1]!;
  const step = strides[nd - 1]!;
  const idx = new Array<number>(nd).fill(0);
  let cur = base;
  let prev = Number.NaN; // start value of the previous run
  for (let p = 0; p < total; p += inner) {
    if (step === 0) out.fill(cur, p, p + inner);
    else if (cur === prev)
      out.copyWithin(p, p - inner, p); // a broadcast axis repeats the run
    else fillRun(out, p, inner, cur, step);
    prev = cur;
    for (let a = nd - 2; a >= 0; a--) {
      idx[a]!++;
      cur += strides[a]!;
      if (idx[a]! < shape[a]!) break;
      cur -= strides[a]! * shape[a]!;
      idx[a] = 0;
    }
  }
  return out;
}

/** out[p + j] = v + j·step for j < len. */
function fillRun(out: Int32Array, p: number, len: number, v: number, step: number): void {
  for (let j = 0; j < len; j++) out[p + j] = v + j * step;
}

/** Gather map for a permutation of axes: out[..] = in[permuted position]. */
export function permuteIndex(shape: Shape, perm: readonly number[]): { idx: Int32Array; shape: number[] } {
  const nd = shape.length;
  if (perm.length !== nd || new Set(perm.map((p) => normAxis(p, nd))).size !== nd)
    throw invalidArgument(`[${perm.join(', ')}] is not a permutation of ${nd} axes`);
  const p = perm.map((a) => normAxis(a, nd));
  const st = stridesOf(shape);
  const outShape = p.map((a) => shape[a]!);
  return {
    idx: stridedIndex(
      outShape,
      p.map((a) => st[a]!),
      0,
    ),
    shape: outShape,
  };
}

/** Gather map selecting [start, end) along `axis`. */
export function sliceIndex(shape: Shape, axis: number, start: number, end: number): Int32Array {
  const st = stridesOf(shape);
  const outShape = shape.slice();
  outShape[axis] = end - start;
  return stridedIndex(outShape, st, start * st[axis]!);
}

/** Resolve one −1 in a reshape target. */
export function resolveReshape(size: number, shape: Shape): number[] {
  const out = shape.slice();
  const neg = out.indexOf(-1);
  if (neg >= 0) {
    const rest = sizeOf(out.filter((_, i) => i !== neg));
    if (rest === 0 || size % rest !== 0)
      throw invalidArgument(`cannot reshape ${size} elements to [${shape.join(', ')}]`);
    out[neg] = size / rest;
  }
  checkShape(out);
  if (sizeOf(out) !== size) throw invalidArgument(`cannot reshape ${size} elements to [${shape.join(', ')}]`);
  return out;
}
