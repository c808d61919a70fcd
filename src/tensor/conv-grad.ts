/**
 * Backward passes of 2-D convolution and pooling over secret tensors (PyTorch layouts: input NCHW,
 * weight OIHW), written against the Engine interface through `SecretTensor`.
 *
 * - `conv2dBackward`: with G the output gradient as an o × (n·oh·ow) matrix and X the im2col matrix
 *   of the input, dW = G·Xᵀ and dcols = Wᵀ·G are two independent fixed-point matrix products issued
 *   together (one round); dx is the col2im of dcols (the transposed convolution): a public
 *   scatter-add, i.e. a gather into [input size, max fan-in] and a local sum; db = Σ G over the rows.
 * - `scatterAdd`: the local col2im primitive (exact).
 * - `avgPool2dBackward`, `maxPool2dBackward`: pooling gradients through the same scatter-add.
 *
 * Fixed point: dW and dcols truncate once per entry after exact accumulation (≤ 1 ulp each); dx sums
 * at most ⌈kh/sh⌉·⌈kw/sw⌉ truncated entries per input position (≤ that many ulp). Max-pool routing
 * multiplies g by a 0/1 integer (exact, no truncation).
 */
import { conv2dPlan } from '../protocols/conv.js';
import { conv2dGeometry, type ConvGeometry } from '../math/kernels.js';
import { invalidArgument } from '../errors.js';
import { SecretTensor } from './tensor.js';

export interface Conv2dGradOptions {
  stride?: number | readonly [number, number];
  pad?: number | readonly [number, number];
}

/**
 * out[i] = Σ { values[j] : target[j] = i } for i < nOut (entries with target outside [0, nOut) are
 * dropped). Local: one public gather into an [nOut, fan-in] matrix padded with a shared zero, then a
 * tree sum. Exact.
 */
export function scatterAdd<S>(values: SecretTensor<S>, target: Int32Array, nOut: number): SecretTensor<S> {
  const L = values.size;
  if (target.length !== L)
    throw invalidArgument(`scatterAdd: ${L} values but ${target.length} target indices`);
  const count = new Int32Array(nOut);
  for (let j = 0; j < L; j++) {
    const t = target[j]!;
    if (t >= 0 && t < nOut) count[t]!++;
  }
  let fan = 0;
  for (let i = 0; i < nOut; i++) fan = Math.max(fan, count[i]!);
  fan = Math.max(fan, 1);
  const idx = new Int32Array(nOut * fan).fill(L); // L = the appended zero
  const fill = new Int32Array(nOut);
  for (let j = 0; j < L; j++) {
    const t = target[j]!;
    if (t >= 0 && t < nOut) idx[t * fan + fill[t]!++] = j;
  }
  const e = values.engine;
  const padded = e.concat([values.share, e.constant(new BigUint64Array(1))]);
  return SecretTensor.fromShare(e, e.gather(padded, idx), [nOut, fan]).sum(1);
}

function geometryOf(x: readonly number[], w: readonly number[], opts: Conv2dGradOptions): ConvGeometry {
  const [n, c, h, wd] = x as [number, number, number, number];
  const [o, wc, kh, kw] = w as [number, number, number, number];
  if (wc !== c) throw invalidArgument(`conv2d backward: input has ${c} channels, weight expects ${wc}`);
  return conv2dGeometry({ n, c, h, w: wd, o, kh, kw, stride: opts.stride ?? 1, pad: opts.pad ?? 0 });
}

/**
 * Gradients of y = conv2d(x, weight) (+ bias) given g = dL/dy [n, o, oh, ow]:
 * dW [o, c, kh, kw], db [o] and dx [n, c, h, w]. One round (two matrix products issued together).
 */
export async function conv2dBackward<S>(
  x: SecretTensor<S>,
  weight: SecretTensor<S>,
  g: SecretTensor<S>,
  opts: Conv2dGradOptions = {},
): Promise<{ dW: SecretTensor<S>; db: SecretTensor<S>; dx: SecretTensor<S> }> {
  if (x.ndim !== 4 || weight.ndim !== 4)
    throw invalidArgument(
      `conv2d backward wants 4-D input and weight, got [${x.shape}] and [${weight.shape}]`,
    );
  const geo = geometryOf(x.shape, weight.shape, opts);
  const { n, c, o, kh, kw, oh, ow } = geo;
  if (g.ndim !== 4 || g.shape[0] !== n || g.shape[1] !== o || g.shape[2] !== oh || g.shape[3] !== ow)
    throw invalidArgument(`conv2d backward: gradient [${g.shape}] does not match output [${[n, o, oh, ow]}]`);
  const e = x.engine;
  const { cols, zero, toNchw } = conv2dPlan(geo);
  const K = c * kh * kw;
  const P = n * oh * ow;
  // G as o × P (inverse of the forward's toNchw permutation)
  const gIdx = new Int32Array(o * P);
  for (let i = 0; i < toNchw.length; i++) gIdx[toNchw[i]!] = i;
  const G = e.gather(g.share, gIdx);
  // Xᵀ as P × K (padding reads the appended zero)
  const xT = new Int32Array(P * K);
  for (let k = 0; k < K; k++) for (let p = 0; p < P; p++) xT[p * K + k] = cols[k * P + p]!;
  const XT = e.gather(e.concat([x.share, e.constant(new BigUint64Array(1))]), xT);
  // Wᵀ as K × o
  const wT = new Int32Array(K * o);
  for (let oc = 0; oc < o; oc++) for (let k = 0; k < K; k++) wT[k * o + oc] = oc * K + k;
  const WT = e.gather(weight.share, wT);
  const [dW, dcols] = await Promise.all([e.matmulFixed(G, XT, o, P, K), e.matmulFixed(WT, G, K, o, P)]);
  const target = new Int32Array(K * P);
  for (let j = 0; j < K * P; j++) target[j] = cols[j] === zero ? -1 : cols[j]!;
  const dx = scatterAdd(SecretTensor.fromShare(e, dcols, [K * P]), target, zero).reshape(x.shape);
  const db = SecretTensor.fromShare(e, G, [o, P]).sum(1);
  return { dW: SecretTensor.fromShare(e, dW, weight.shape), db, dx };
}

/** Pooling windows as conv2dPlan sees them: target[p·K + k] = input index of window p, position k (−1: padding). */
function poolTargets(
  shape: readonly number[],
  kernel: number | readonly [number, number],
  opts: Conv2dGradOptions,
): { target: Int32Array; P: number; K: number; outShape: number[] } {
  if (shape.length !== 4) throw invalidArgument(`pooling wants a 4-D N×C×H×W input, got [${shape}]`);
  const [n, c, h, w] = shape as [number, number, number, number];
  const [kh, kw] = typeof kernel === 'number' ? [kernel, kernel] : kernel;
  const geo = conv2dGeometry({
    n: n * c,
    c: 1,
    h,
    w,
    o: 1,
    kh,
    kw,
    stride: opts.stride ?? kernel,
    pad: opts.pad ?? 0,
  });
  const { cols, zero } = conv2dPlan(geo);
  const K = kh * kw;
  const P = n * c * geo.oh * geo.ow;
  const target = new Int32Array(P * K);
  for (let k = 0; k < K; k++)
    for (let p = 0; p < P; p++) {
      const v = cols[k * P + p]!;
      target[p * K + k] = v === zero ? -1 : v;
    }
  return { target, P, K, outShape: [n, c, geo.oh, geo.ow] };
}

function checkGrad(g: readonly number[], want: readonly number[], what: string): void {
  if (g.length !== want.length || g.some((d, i) => d !== want[i]))
    throw invalidArgument(`${what} backward: gradient [${g}] does not match output [${want}]`);
}

/**
 * Gradient of avgPool2d (zero padding counted, PyTorch's count_include_pad = True): every input in
 * a window receives g/(kh·kw). One truncation (the 1/k scalar), then a local scatter-add.
 */
export async function avgPool2dBackward<S>(
  inputShape: readonly number[],
  g: SecretTensor<S>,
  kernel: number | readonly [number, number],
  opts: Conv2dGradOptions = {},
): Promise<SecretTensor<S>> {
  const { target, P, K, outShape } = poolTargets(inputShape, kernel, opts);
  checkGrad(g.shape, outShape, 'avgPool2d');
  const gk = await g.reshape([P, 1]).mulScalar(1 / K);
  const spread = gk.broadcastTo([P, K]);
  const nIn = inputShape.reduce((a, b) => a * b, 1);
  return scatterAdd(spread.reshape([P * K]), target, nIn).reshape(inputShape);
}

/**
 * Gradient of maxPool2d: g goes to the window's argmax (the `indices` of `maxPool2dWithIndices`,
 * fixed-point encoded positions in the window). One batched equality test against the K positions
 * (one-hot) and one exact product (g times a 0/1 integer), then a local scatter-add.
 */
export async function maxPool2dBackward<S>(
  inputShape: readonly number[],
  g: SecretTensor<S>,
  indices: SecretTensor<S>,
  kernel: number | readonly [number, number],
  opts: Conv2dGradOptions = {},
): Promise<SecretTensor<S>> {
  const { target, P, K, outShape } = poolTargets(inputShape, kernel, opts);
  checkGrad(g.shape, outShape, 'maxPool2d');
  checkGrad(indices.shape, outShape, 'maxPool2d (indices)');
  const e = g.engine;
  const rep = new Int32Array(P * K);
  const pos = new BigUint64Array(P * K);
  for (let p = 0; p < P; p++)
    for (let k = 0; k < K; k++) {
      rep[p * K + k] = p;
      pos[p * K + k] = BigInt(k) << BigInt(e.f);
    }
  const onehot = await e.eq(e.gather(indices.share, rep), e.constant(pos)); // 0/1 integers
  const routed = await e.mul(e.gather(g.share, rep), onehot); // exact: g · {0, 1}
  const nIn = inputShape.reduce((a, b) => a * b, 1);
  return scatterAdd(SecretTensor.fromShare(e, routed, [P * K]), target, nIn).reshape(inputShape);
}
