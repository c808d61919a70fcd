/**
 * Plaintext Float64 reference implementations for the tensor tests. Written independently of
 * src/tensor (multi-index walks rather than the library's stride maps) so they check it.
 */
export interface Plain {
  data: Float64Array;
  shape: number[];
}

export const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

function unravel(i: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let a = shape.length - 1; a >= 0; a--) {
    out[a] = i % shape[a]!;
    i = Math.floor(i / shape[a]!);
  }
  return out;
}

function ravel(ix: readonly number[], shape: readonly number[]): number {
  let i = 0;
  for (let a = 0; a < shape.length; a++) i = i * shape[a]! + ix[a]!;
  return i;
}

export function plain(data: ArrayLike<number>, shape: number[]): Plain {
  return { data: Float64Array.from(data), shape };
}

export function bshape(a: readonly number[], b: readonly number[]): number[] {
  const nd = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < nd; i++) {
    const x = a[a.length - nd + i] ?? 1;
    const y = b[b.length - nd + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error('oracle: not broadcastable');
    out.push(x === 1 ? y : x);
  }
  return out;
}

export function bcast(a: Plain, shape: number[]): Plain {
  const out = new Float64Array(size(shape));
  const off = shape.length - a.shape.length;
  for (let i = 0; i < out.length; i++) {
    const ix = unravel(i, shape)
      .slice(off)
      .map((v, k) => (a.shape[k] === 1 ? 0 : v));
    out[i] = a.data[ravel(ix, a.shape)]!;
  }
  return { data: out, shape };
}

export function zip(a: Plain, b: Plain, fn: (x: number, y: number) => number): Plain {
  const s = bshape(a.shape, b.shape);
  const x = bcast(a, s);
  const y = bcast(b, s);
  return { data: x.data.map((v, i) => fn(v, y.data[i]!)), shape: s };
}

export function permute(a: Plain, perm: number[]): Plain {
  const shape = perm.map((p) => a.shape[p]!);
  const out = new Float64Array(a.data.length);
  for (let i = 0; i < out.length; i++) {
    const ix = unravel(i, shape);
    const src = new Array<number>(perm.length);
    perm.forEach((p, k) => (src[p] = ix[k]!));
    out[i] = a.data[ravel(src, a.shape)]!;
  }
  return { data: out, shape };
}

export function sliceAxis(a: Plain, axis: number, s: number, e: number): Plain {
  const shape = a.shape.slice();
  shape[axis] = e - s;
  const out = new Float64Array(size(shape));
  for (let i = 0; i < out.length; i++) {
    const ix = unravel(i, shape);
    ix[axis]! += s;
    out[i] = a.data[ravel(ix, a.shape)]!;
  }
  return { data: out, shape };
}

export function concat(ts: Plain[], axis: number): Plain {
  const shape = ts[0]!.shape.slice();
  shape[axis] = ts.reduce((s, t) => s + t.shape[axis]!, 0);
  const out = new Float64Array(size(shape));
  for (let i = 0; i < out.length; i++) {
    const ix = unravel(i, shape);
    let k = 0;
    while (ix[axis]! >= ts[k]!.shape[axis]!) ix[axis]! -= ts[k++]!.shape[axis]!;
    out[i] = ts[k]!.data[ravel(ix, ts[k]!.shape)]!;
  }
  return { data: out, shape };
}

/** Reduce along an axis with `fn` over the values of each lane; returns value per lane. */
export function reduce(a: Plain, axis: number, fn: (lane: number[]) => number): Plain {
  const shape = a.shape.filter((_, i) => i !== axis);
  const out = new Float64Array(size(shape));
  for (let i = 0; i < out.length; i++) {
    const ix = unravel(i, shape);
    const lane: number[] = [];
    for (let l = 0; l < a.shape[axis]!; l++) {
      const full = ix.slice();
      full.splice(axis, 0, l);
      lane.push(a.data[ravel(full, a.shape)]!);
    }
    out[i] = fn(lane);
  }
  return { data: out, shape };
}

/** Batched matmul with broadcasting of leading axes (both operands rank ≥ 2). */
export function matmul(a: Plain, b: Plain): Plain {
  const m = a.shape[a.shape.length - 2]!;
  const k = a.shape[a.shape.length - 1]!;
  const n = b.shape[b.shape.length - 1]!;
  const batch = bshape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const A = bcast(a, [...batch, m, k]);
  const B = bcast(b, [...batch, k, n]);
  const nb = size(batch);
  const out = new Float64Array(nb * m * n);
  for (let t = 0; t < nb; t++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let l = 0; l < k; l++) s += A.data[t * m * k + i * k + l]! * B.data[t * k * n + l * n + j]!;
        out[t * m * n + i * n + j] = s;
      }
  return { data: out, shape: [...batch, m, n] };
}

/** Windows of a 2-D pooling/convolution: for each (b, c, y, x) output the list of input values (pad → `padValue`). */
export function windows(
  a: Plain,
  kh: number,
  kw: number,
  stride: number,
  pad: number,
  padValue: number,
): { shape: number[]; lanes: number[][] } {
  const [n, c, h, w] = a.shape as [number, number, number, number];
  const oh = Math.floor((h + 2 * pad - kh) / stride) + 1;
  const ow = Math.floor((w + 2 * pad - kw) / stride) + 1;
  const lanes: number[][] = [];
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < oh; y++)
        for (let x = 0; x < ow; x++) {
          const lane: number[] = [];
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++) {
              const iy = y * stride - pad + i;
              const ix = x * stride - pad + j;
              lane.push(
                iy >= 0 && iy < h && ix >= 0 && ix < w ? a.data[((b * c + ch) * h + iy) * w + ix]! : padValue,
              );
            }
          lanes.push(lane);
        }
  return { shape: [n, c, oh, ow], lanes };
}

export function conv2d(
  x: Plain,
  wt: Plain,
  stride: number,
  pad: number,
): { out: Plain; absSum: Float64Array } {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [o, , kh, kw] = wt.shape as [number, number, number, number];
  const oh = Math.floor((h + 2 * pad - kh) / stride) + 1;
  const ow = Math.floor((w + 2 * pad - kw) / stride) + 1;
  const out = new Float64Array(n * o * oh * ow);
  const absSum = new Float64Array(out.length);
  for (let b = 0; b < n; b++)
    for (let oc = 0; oc < o; oc++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++) {
          let s = 0;
          let t = 0;
          for (let ci = 0; ci < c; ci++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const iy = y * stride - pad + i;
                const ix = xx * stride - pad + j;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                const u = x.data[((b * c + ci) * h + iy) * w + ix]!;
                const v = wt.data[((oc * c + ci) * kh + i) * kw + j]!;
                s += u * v;
                t += Math.abs(u) + Math.abs(v);
              }
          const p = ((b * o + oc) * oh + y) * ow + xx;
          out[p] = s;
          absSum[p] = t;
        }
  return { out: { data: out, shape: [n, o, oh, ow] }, absSum };
}
