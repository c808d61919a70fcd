/**
 * Secret 2-D convolution for every scheme, written against the Engine interface: the input is
 * rearranged into an im2col matrix by a public gather (local), then one secret matrix product with the
 * weights gives every output of every image at once (one round, communication proportional to the
 * output for the replicated and Shamir schemes; the additive scheme opens the masked im2col matrix
 * once, through a matrix triple of that shape). `fixed` truncates once per output, after exact
 * accumulation. Shapes: input n×c×h×w (NCHW), weight o×c×kh×kw (OIHW), output n×o×oh×ow (NCHW).
 */
import { conv2dGeometry, type Conv2dShape, type ConvGeometry } from '../math/kernels.js';
import { invalidArgument } from '../errors.js';
import type { Engine } from './engine.js';

/** Public index maps: im2col columns (with index `zero` for padding) and the output permutation. */
export function conv2dPlan(g: ConvGeometry): { cols: Int32Array; zero: number; toNchw: Int32Array } {
  const { n, c, h, w, kh, kw, oh, ow, o } = g;
  const zero = n * c * h * w; // the appended constant 0
  const K = c * kh * kw;
  const P = n * oh * ow;
  const cols = new Int32Array(K * P);
  for (let ci = 0; ci < c; ci++)
    for (let ki = 0; ki < kh; ki++)
      for (let kj = 0; kj < kw; kj++) {
        const row = (ci * kh + ki) * kw + kj;
        for (let b = 0; b < n; b++)
          for (let y = 0; y < oh; y++)
            for (let x = 0; x < ow; x++) {
              const iy = y * g.strideH - g.padH + ki;
              const ix = x * g.strideW - g.padW + kj;
              const inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
              cols[row * P + (b * oh + y) * ow + x] = inside ? ((b * c + ci) * h + iy) * w + ix : zero;
            }
      }
  // matmul output is o × (n·oh·ow); NCHW wants n × o × oh × ow
  const toNchw = new Int32Array(n * o * oh * ow);
  for (let b = 0; b < n; b++)
    for (let oc = 0; oc < o; oc++)
      for (let p = 0; p < oh * ow; p++) toNchw[(b * o + oc) * oh * ow + p] = oc * P + b * oh * ow + p;
  return { cols, zero, toNchw };
}

export async function conv2d<S>(
  e: Engine<S>,
  x: S,
  weight: S,
  shape: Conv2dShape,
  opts: { fixed?: boolean } = {},
): Promise<{ y: S; geometry: ConvGeometry }> {
  const g = conv2dGeometry(shape);
  if (e.length(x) !== g.n * g.c * g.h * g.w)
    throw invalidArgument(`conv2d input has ${e.length(x)} elements, shape wants ${g.n * g.c * g.h * g.w}`);
  if (e.length(weight) !== g.o * g.c * g.kh * g.kw)
    throw invalidArgument(
      `conv2d weight has ${e.length(weight)} elements, shape wants ${g.o * g.c * g.kh * g.kw}`,
    );
  const { cols, toNchw } = conv2dPlan(g);
  const padded = e.concat([x, e.constant(new BigUint64Array(1))]);
  const X = e.gather(padded, cols);
  const K = g.c * g.kh * g.kw;
  const P = g.n * g.oh * g.ow;
  const prod = opts.fixed ? await e.matmulFixed(weight, X, g.o, K, P) : await e.matmul(weight, X, g.o, K, P);
  return { y: e.gather(prod, toNchw), geometry: g };
}
