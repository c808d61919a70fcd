/**
 * Secret tensors over any Engine<S>: a share, a row-major shape and the engine that computes on it.
 * Values are fixed point with the engine's f fractional bits (docs/numerics.md); the semantics and
 * error of each operation are in docs/tensor.md.
 *
 * Shape operations are local (one public `engine.gather`/`slice`/`concat`). Every interactive step
 * is one engine call for the whole tensor (no per-element await); the only exception is a batched
 * matmul whose two operands are both batched, which issues one matrix product per batch, all at
 * once (same round).
 */
import { conv2d as engineConv2d, conv2dPlan } from '../protocols/conv.js';
import type { Engine } from '../protocols/engine.js';
import { conv2dGeometry } from '../math/kernels.js';
import { decode, encode, fromInts } from '../math/fixed.js';
import { invalidArgument } from '../errors.js';
import { PublicTensor } from './public.js';
import {
  broadcastIndex,
  broadcastShapes,
  checkShape,
  normAxis,
  permuteIndex,
  resolveReshape,
  sameShape,
  sizeOf,
  sliceIndex,
  stridesOf,
  type Shape,
} from './shape.js';

/** The other operand of an elementwise operation: secret, public, or a scalar. */
export type Operand<S> = SecretTensor<S> | PublicTensor | number;

export interface Conv2dOptions<S> {
  stride?: number | readonly [number, number];
  pad?: number | readonly [number, number];
  /** Per-output-channel bias, shape [O]. */
  bias?: SecretTensor<S> | PublicTensor;
}

export interface Pool2dOptions {
  /** Default: the kernel size. */
  stride?: number | readonly [number, number];
  pad?: number | readonly [number, number];
}

/** A very negative fixed-point value for max-pool padding: −2^61 ring units (comparisons stay exact). */
const NEG_PAD = BigUint64Array.of(BigInt.asUintN(64, -(1n << 61n)));

function pair(v: number | readonly [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

export class SecretTensor<S> {
  readonly shape: readonly number[];

  constructor(
    readonly engine: Engine<S>,
    readonly share: S,
    shape: Shape,
  ) {
    checkShape(shape);
    if (engine.length(share) !== sizeOf(shape))
      throw invalidArgument(
        `share has ${engine.length(share)} elements, shape [${shape.join(', ')}] wants ${sizeOf(shape)}`,
      );
    this.shape = shape.slice();
  }

  // ---- creation and opening ---------------------------------------------------------------------

  /** Party `owner` secret-shares `data` (fixed-point encoded with the engine's f); others pass null. */
  static async fromOwner<S>(
    engine: Engine<S>,
    owner: number,
    data: ArrayLike<number> | null,
    shape: Shape,
  ): Promise<SecretTensor<S>> {
    checkShape(shape);
    const n = sizeOf(shape);
    let enc: BigUint64Array | null = null;
    if (engine.me === owner) {
      if (data === null) throw invalidArgument(`party ${owner} owns the input but passed no data`);
      if (data.length !== n)
        throw invalidArgument(`input has ${data.length} values, shape [${shape.join(', ')}] wants ${n}`);
      enc = encode(data, engine.f);
    }
    return new SecretTensor(engine, await engine.input(owner, enc, n), shape);
  }

  static fromShare<S>(engine: Engine<S>, share: S, shape: Shape): SecretTensor<S> {
    return new SecretTensor(engine, share, shape);
  }

  /** A (trivial) sharing of a public tensor. */
  static fromPublic<S>(engine: Engine<S>, p: PublicTensor): SecretTensor<S> {
    return new SecretTensor(engine, engine.constant(encode(p.data, engine.f)), p.shape);
  }

  /** Open to the parties in `to` (default all) and decode; others get null. */
  async reveal(to?: readonly number[]): Promise<Float64Array | null> {
    const v = await this.engine.reveal(this.share, to);
    return v === null ? null : decode(v, this.engine.f);
  }

  get size(): number {
    return sizeOf(this.shape);
  }

  get ndim(): number {
    return this.shape.length;
  }

  private with(share: S, shape: Shape): SecretTensor<S> {
    return new SecretTensor(this.engine, share, shape);
  }

  private gathered(idx: Int32Array, shape: Shape): SecretTensor<S> {
    return this.with(this.engine.gather(this.share, idx), shape);
  }

  // ---- shape operations (local) -----------------------------------------------------------------

  /** Same elements, new shape (one dimension may be −1). */
  reshape(shape: Shape): SecretTensor<S> {
    return this.with(this.share, resolveReshape(this.size, shape));
  }

  /** Merge axes startDim..endDim into one (default: everything, giving a 1-D tensor). */
  flatten(startDim = 0, endDim = -1): SecretTensor<S> {
    if (this.ndim === 0) return this.reshape([1]);
    const s = normAxis(startDim, this.ndim);
    const e = normAxis(endDim, this.ndim);
    if (e < s) throw invalidArgument(`flatten: endDim ${endDim} before startDim ${startDim}`);
    const shape = [...this.shape.slice(0, s), sizeOf(this.shape.slice(s, e + 1)), ...this.shape.slice(e + 1)];
    return this.reshape(shape);
  }

  /** Insert an axis of length 1 at `axis` (−1 appends). */
  unsqueeze(axis: number): SecretTensor<S> {
    const a = normAxis(axis, this.ndim + 1);
    const shape = this.shape.slice();
    shape.splice(a, 0, 1);
    return this.reshape(shape);
  }

  /** Remove the given axis (must have length 1), or every length-1 axis. */
  squeeze(axis?: number): SecretTensor<S> {
    if (axis === undefined) return this.reshape(this.shape.filter((d) => d !== 1));
    const a = normAxis(axis, this.ndim);
    if (this.shape[a] !== 1) throw invalidArgument(`squeeze: axis ${axis} has length ${this.shape[a]}`);
    return this.reshape(this.shape.filter((_, i) => i !== a));
  }

  /** Reorder axes: output axis i is input axis perm[i]. */
  permute(...perm: number[]): SecretTensor<S> {
    if (perm.every((p, i) => normAxis(p, this.ndim) === i)) return this;
    // Moving only length-1 axes keeps the row-major element order: a reshape, no gather (e.g. the
    // transpose of a [B, 1] gradient or of a [1, in] weight, every training step).
    const nd = this.ndim;
    if (perm.length === nd && new Set(perm.map((p) => normAxis(p, nd))).size === nd) {
      let last = -1;
      let inOrder = true;
      for (const p of perm) {
        const a = normAxis(p, nd);
        if (this.shape[a] === 1) continue;
        if (a < last) {
          inOrder = false;
          break;
        }
        last = a;
      }
      if (inOrder)
        return this.with(
          this.share,
          perm.map((p) => this.shape[normAxis(p, nd)]!),
        );
    }
    const { idx, shape } = permuteIndex(this.shape, perm);
    return this.gathered(idx, shape);
  }

  /** Swap two axes (default: the last two; a tensor of rank < 2 is returned unchanged). */
  transpose(dim0 = -2, dim1 = -1): SecretTensor<S> {
    if (this.ndim < 2) return this;
    const perm = [...this.shape.keys()];
    const a = normAxis(dim0, this.ndim);
    const b = normAxis(dim1, this.ndim);
    perm[a] = b;
    perm[b] = a;
    return this.permute(...perm);
  }

  /** Elements [start, end) along `axis` (negative indices count from the end, as in Python). */
  slice(axis: number, start: number, end?: number): SecretTensor<S> {
    const a = normAxis(axis, this.ndim);
    const len = this.shape[a]!;
    const clamp = (v: number): number => Math.min(len, Math.max(0, v < 0 ? v + len : v));
    const s = clamp(start);
    const e = Math.max(s, clamp(end ?? len));
    const shape = this.shape.slice();
    shape[a] = e - s;
    if (this.shape.slice(0, a).every((d) => d === 1)) {
      const st = stridesOf(this.shape)[a]!;
      return this.with(this.engine.slice(this.share, s * st, e * st), shape);
    }
    return this.gathered(sliceIndex(this.shape, a, s, e), shape);
  }

  /** Concatenate along `axis`; all other dimensions must agree. */
  static concat<S>(ts: readonly SecretTensor<S>[], axis = 0): SecretTensor<S> {
    const first = ts[0];
    if (first === undefined) throw invalidArgument('concat of no tensors');
    const e = first.engine;
    const nd = first.ndim;
    const a = normAxis(axis, nd);
    for (const t of ts)
      if (t.ndim !== nd || t.shape.some((d, i) => i !== a && d !== first.shape[i]))
        throw invalidArgument(
          `concat along axis ${axis}: shapes ${ts.map((x) => `[${x.shape.join(', ')}]`).join(', ')} differ`,
        );
    const total = ts.reduce((s, t) => s + t.shape[a]!, 0);
    const shape = first.shape.slice();
    shape[a] = total;
    const joined = e.concat(ts.map((t) => t.share));
    const outer = sizeOf(first.shape.slice(0, a));
    if (outer === 1) return new SecretTensor(e, joined, shape);
    const inner = sizeOf(first.shape.slice(a + 1));
    // output row o is each input's row o in turn: runs of L·inner consecutive joined elements
    const idx = new Int32Array(sizeOf(shape));
    const runs = ts.map((t) => t.shape[a]! * inner);
    const bases: number[] = [];
    let base = 0;
    for (const t of ts) {
      bases.push(base);
      base += t.size;
    }
    let p = 0;
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < ts.length; j++) {
        const run = runs[j]!;
        const from = bases[j]! + o * run;
        for (let i = 0; i < run; i++) idx[p++] = from + i;
      }
    return new SecretTensor(e, e.gather(joined, idx), shape);
  }

  /** Repeat to `shape` by NumPy broadcasting (local). */
  broadcastTo(shape: Shape): SecretTensor<S> {
    if (sameShape(this.shape, shape)) return this;
    return this.gathered(broadcastIndex(this.shape, shape), shape);
  }

  // ---- elementwise (NumPy broadcasting; secret, public and scalar operands mix) -----------------

  private static pub(o: PublicTensor | number): PublicTensor {
    return typeof o === 'number' ? PublicTensor.scalar(o) : o;
  }

  /** Both operands broadcast to their common shape. */
  private aligned<T extends SecretTensor<S> | PublicTensor>(o: T): [SecretTensor<S>, T, number[]] {
    const shape = broadcastShapes(this.shape, o.shape);
    const other = (o instanceof SecretTensor ? o.broadcastTo(shape) : o.broadcastTo(shape)) as T;
    if (o instanceof SecretTensor && o.engine !== this.engine)
      throw invalidArgument('operands belong to different engines');
    return [this.broadcastTo(shape), other, shape];
  }

  private encodePublic(p: PublicTensor): BigUint64Array {
    return encode(p.data, this.engine.f);
  }

  /** this + o (local). */
  add(o: Operand<S>): SecretTensor<S> {
    const e = this.engine;
    if (o instanceof SecretTensor) {
      const [x, y, shape] = this.aligned(o);
      return this.with(e.add(x.share, y.share), shape);
    }
    const [x, p, shape] = this.aligned(SecretTensor.pub(o));
    return this.with(e.addPublic(x.share, this.encodePublic(p)), shape);
  }

  /** this − o (local). */
  sub(o: Operand<S>): SecretTensor<S> {
    const e = this.engine;
    if (o instanceof SecretTensor) {
      const [x, y, shape] = this.aligned(o);
      return this.with(e.sub(x.share, y.share), shape);
    }
    const p = SecretTensor.pub(o);
    return this.add(
      new PublicTensor(
        p.data.map((v) => -v),
        p.shape,
      ),
    );
  }

  /** o − this (local), for a public or scalar o. */
  rsub(o: PublicTensor | number): SecretTensor<S> {
    return this.neg().add(o);
  }

  neg(): SecretTensor<S> {
    return this.with(this.engine.neg(this.share), this.shape);
  }

  /**
   * this · o. Secret × secret: one `mulFixed` (product, then one truncation). Secret × public: exact
   * and local when every public value is an integer (|v| < 2^31); otherwise `mulPublic` by the
   * encoding followed by one truncation.
   */
  async mul(o: Operand<S>): Promise<SecretTensor<S>> {
    const e = this.engine;
    if (typeof o === 'number') return this.mulScalar(o);
    if (o instanceof SecretTensor) {
      const [x, y, shape] = this.aligned(o);
      return this.with(await e.mulFixed(x.share, y.share), shape);
    }
    const [x, p, shape] = this.aligned(o);
    if (p.isSmallInteger()) return this.with(e.mulPublic(x.share, fromInts(p.data)), shape);
    return this.with(await e.trunc(e.mulPublic(x.share, this.encodePublic(p))), shape);
  }

  /** this · c: exact and local for an integer c, else one product by round(c·2^f) and one truncation. */
  async mulScalar(c: number): Promise<SecretTensor<S>> {
    const e = this.engine;
    if (Number.isInteger(c) && Math.abs(c) < 2 ** 31)
      return this.with(e.mulScalar(this.share, BigInt(c)), this.shape);
    const enc = Math.round(c * 2 ** e.f);
    if (!Number.isSafeInteger(enc)) throw invalidArgument(`scalar ${c} outside the fixed-point range`);
    return this.with(await e.trunc(e.mulScalar(this.share, BigInt(enc))), this.shape);
  }

  /** this + c (local). */
  addScalar(c: number): SecretTensor<S> {
    return this.add(c);
  }

  /** this + p with broadcasting (local). */
  addPublic(p: PublicTensor): SecretTensor<S> {
    return this.add(p);
  }

  // ---- matrix products ---------------------------------------------------------------------------

  /**
   * Matrix product with NumPy `matmul` semantics: the last two axes multiply ([.., m, k] · [.., k, n]),
   * leading axes broadcast; a 1-D operand is promoted (and the added axis removed). Fixed point: exact
   * accumulation in the ring, one truncation per output. When the right operand has no batch axes
   * the whole batch is one `matmulFixed`; a public operand is shared as a constant.
   */
  async matmul(o: SecretTensor<S> | PublicTensor): Promise<SecretTensor<S>> {
    const other = o instanceof SecretTensor ? o : SecretTensor.fromPublic(this.engine, o);
    return matmulShares(this, other);
  }

  /**
   * this · w + b for a 2-D `this` [m, k], w [k, n] and a bias b [n] added to every row (a Linear
   * layer). Where the engine offers `matmulFixedBias` the bias joins the product before its one
   * truncation (same ≤ 1 ulp error; on rep3 the result keeps the truncation's sign hint, so a
   * following ReLU or comparison is cheaper); otherwise `matmul` then `add`.
   */
  async matmulBias(w: SecretTensor<S> | PublicTensor, b: SecretTensor<S>): Promise<SecretTensor<S>> {
    const e = this.engine;
    const W = w instanceof SecretTensor ? w : SecretTensor.fromPublic(e, w);
    if (
      e.matmulFixedBias &&
      this.ndim === 2 &&
      W.ndim === 2 &&
      b.ndim === 1 &&
      this.shape[1] === W.shape[0] &&
      b.shape[0] === W.shape[1]
    ) {
      const [m, k] = this.shape as [number, number];
      const n = W.shape[1]!;
      return new SecretTensor(e, await e.matmulFixedBias(this.share, W.share, m, k, n, b.share), [m, n]);
    }
    return (await this.matmul(W)).add(b);
  }

  /** p · this for a public left operand. */
  async rmatmul(p: PublicTensor): Promise<SecretTensor<S>> {
    return matmulShares(SecretTensor.fromPublic(this.engine, p), this);
  }

  /**
   * 2-D convolution (cross-correlation): this is N×C×H×W, weight O×C×kh×kw (secret or public),
   * output N×O×oh×ow; zero padding. One matrix product (src/protocols/conv.ts), one truncation per
   * output after exact accumulation; the bias (shape [O]) is added afterwards.
   */
  async conv2d(
    weight: SecretTensor<S> | PublicTensor,
    opts: Conv2dOptions<S> = {},
  ): Promise<SecretTensor<S>> {
    if (this.ndim !== 4 || weight.shape.length !== 4)
      throw invalidArgument(`conv2d wants a 4-D input and weight, got [${this.shape}] and [${weight.shape}]`);
    const [n, c, h, w] = this.shape as [number, number, number, number];
    const [oc, wc, kh, kw] = weight.shape as [number, number, number, number];
    if (wc !== c) throw invalidArgument(`conv2d: input has ${c} channels, weight expects ${wc}`);
    const ws = weight instanceof SecretTensor ? weight : SecretTensor.fromPublic(this.engine, weight);
    const { y, geometry: g } = await engineConv2d(
      this.engine,
      this.share,
      ws.share,
      { n, c, h, w, o: oc, kh, kw, stride: opts.stride ?? 1, pad: opts.pad ?? 0 },
      { fixed: true },
    );
    const out = this.with(y, [n, oc, g.oh, g.ow]);
    if (opts.bias === undefined) return out;
    if (opts.bias.shape.length !== 1 || opts.bias.shape[0] !== oc)
      throw invalidArgument(`conv2d bias must have shape [${oc}], got [${opts.bias.shape}]`);
    const b =
      opts.bias instanceof SecretTensor
        ? opts.bias.reshape([1, oc, 1, 1])
        : new PublicTensor(opts.bias.data, [1, oc, 1, 1]);
    return out.add(b);
  }

  // ---- reductions --------------------------------------------------------------------------------

  /** Sum over `axis` (default: all elements, giving a scalar); exact and local. */
  sum(axis?: number, keepdim = false): SecretTensor<S> {
    if (axis === undefined) {
      const s = this.reshape([this.size]).sum(0);
      return keepdim ? s.reshape(this.shape.map(() => 1)) : s;
    }
    const a = normAxis(axis, this.ndim);
    const outer = sizeOf(this.shape.slice(0, a));
    const inner = sizeOf(this.shape.slice(a + 1));
    let L = this.shape[a]!;
    let cur = this.reshape([outer, L, inner]);
    if (L === 0) {
      cur = this.with(this.engine.constant(new BigUint64Array(outer * inner)), [outer, 1, inner]);
      L = 1;
    }
    // pairwise (tree) reduction: ⌈log2 L⌉ local gathers and adds, O(size) work in total
    while (L > 1) {
      const h = Math.floor(L / 2);
      let s = cur.slice(1, 0, h).add(cur.slice(1, h, 2 * h));
      if (L % 2 === 1) s = SecretTensor.concat([s, cur.slice(1, 2 * h, L)], 1);
      cur = s;
      L = s.shape[1]!;
    }
    const shape = this.shape.slice();
    if (keepdim) shape[a] = 1;
    else shape.splice(a, 1);
    return cur.reshape(shape);
  }

  /**
   * Mean over `axis` (default all): the exact sum times the public encoding of 1/n, then one
   * truncation (exact scale when n is a power of two).
   */
  async mean(axis?: number, keepdim = false): Promise<SecretTensor<S>> {
    const n = axis === undefined ? this.size : this.shape[normAxis(axis, this.ndim)]!;
    if (n === 0) throw invalidArgument('mean over an empty axis');
    return this.sum(axis, keepdim).mulScalar(1 / n);
  }

  /** Per-window gather plan for 2-D pooling: rows = N·C·oh·ow windows, cols = kh·kw positions. */
  private poolWindows(
    kernel: number | readonly [number, number],
    opts: Pool2dOptions,
    pad: BigUint64Array,
  ): { windows: SecretTensor<S>; outShape: number[]; k: number } {
    if (this.ndim !== 4) throw invalidArgument(`pooling wants a 4-D N×C×H×W input, got [${this.shape}]`);
    const [n, c, h, w] = this.shape as [number, number, number, number];
    const [kh, kw] = pair(kernel);
    const g = conv2dGeometry({
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
    const { cols } = conv2dPlan(g);
    const K = kh * kw;
    const P = n * c * g.oh * g.ow;
    const idx = new Int32Array(K * P);
    for (let k = 0; k < K; k++) for (let p = 0; p < P; p++) idx[p * K + k] = cols[k * P + p]!;
    const padded = this.engine.concat([this.share, this.engine.constant(pad)]);
    return {
      windows: this.with(this.engine.gather(padded, idx), [P, K]),
      outShape: [n, c, g.oh, g.ow],
      k: K,
    };
  }

  /** Average pooling (zero padding counted, as PyTorch's default): local window sums, one truncation. */
  async avgPool2d(
    kernel: number | readonly [number, number],
    opts: Pool2dOptions = {},
  ): Promise<SecretTensor<S>> {
    const { windows, outShape, k } = this.poolWindows(kernel, opts, new BigUint64Array(1));
    return (await windows.sum(1).mulScalar(1 / k)).reshape(outShape);
  }

  /** Max pooling (padding never wins): one `maxArgmax` over all windows. */
  async maxPool2d(
    kernel: number | readonly [number, number],
    opts: Pool2dOptions = {},
  ): Promise<SecretTensor<S>> {
    return (await this.maxPool2dWithIndices(kernel, opts)).y;
  }

  /** Max pooling plus, per output, the position of the max inside its window (row-major in kh×kw). */
  async maxPool2dWithIndices(
    kernel: number | readonly [number, number],
    opts: Pool2dOptions = {},
  ): Promise<{ y: SecretTensor<S>; indices: SecretTensor<S> }> {
    const { windows, outShape } = this.poolWindows(kernel, opts, NEG_PAD);
    const { max, argmax } = await windows.maxArgmaxRows();
    return { y: max.reshape(outShape), indices: argmax.reshape(outShape) };
  }

  // ---- comparisons and ReLU ----------------------------------------------------------------------

  /** Row-wise max and argmax of a 2-D view [rows, cols]; argmax fixed-point encoded. */
  private async maxArgmaxRows(): Promise<{ max: SecretTensor<S>; argmax: SecretTensor<S> }> {
    const [rows, cols] = this.shape as [number, number];
    if (cols === 0) throw invalidArgument('max/argmax over an empty axis');
    const e = this.engine;
    const { max, argmax } = await e.maxArgmax(this.share, rows, cols);
    return {
      max: this.with(max, [rows]),
      argmax: this.with(e.mulScalar(argmax, 1n << BigInt(e.f)), [rows]),
    };
  }

  /** The tensor viewed as [rows, L] with `axis` last (a gather when axis is not already last). */
  private axisLast(axis: number): { view: SecretTensor<S>; outShape: number[] } {
    const a = normAxis(axis, this.ndim);
    const perm = [...this.shape.keys()].filter((i) => i !== a);
    perm.push(a);
    const t = this.permute(...perm);
    const outShape = this.shape.filter((_, i) => i !== a);
    return { view: t.reshape([sizeOf(outShape), this.shape[a]!]), outShape };
  }

  /** Maximum along `axis` (default: the last), one `maxArgmax` for the whole tensor. */
  async max(axis = -1, keepdim = false): Promise<SecretTensor<S>> {
    return (await this.maxWithIndices(axis, keepdim)).values;
  }

  /**
   * Index of the maximum along `axis` (default: the last; first index on ties), as a fixed-point
   * encoded integer (reveal decodes it to the index).
   */
  async argmax(axis = -1, keepdim = false): Promise<SecretTensor<S>> {
    return (await this.maxWithIndices(axis, keepdim)).indices;
  }

  async maxWithIndices(
    axis = -1,
    keepdim = false,
  ): Promise<{ values: SecretTensor<S>; indices: SecretTensor<S> }> {
    const { view, outShape } = this.axisLast(axis);
    const { max, argmax } = await view.maxArgmaxRows();
    const shape = keepdim ? this.shape.map((d, i) => (i === normAxis(axis, this.ndim) ? 1 : d)) : outShape;
    return { values: max.reshape(shape), indices: argmax.reshape(shape) };
  }

  /** max(x, 0), exact (one comparison round trip for the whole tensor). */
  async relu(): Promise<SecretTensor<S>> {
    return (await this.reluWithGrad()).y;
  }

  /**
   * ReLU and its derivative d = [x ≥ 0] as a fixed-point 0/1 tensor (multiply the incoming gradient
   * by it with `mul`; the truncation of an exact multiple of 2^f is exact).
   */
  async reluWithGrad(): Promise<{ y: SecretTensor<S>; d: SecretTensor<S> }> {
    const e = this.engine;
    const { y, d } = await e.relu(this.share);
    return { y: this.with(y, this.shape), d: this.with(e.mulScalar(d, 1n << BigInt(e.f)), this.shape) };
  }

  /** [x ≥ 0] as a fixed-point 0/1 tensor (the ReLU derivative alone). */
  async drelu(): Promise<SecretTensor<S>> {
    const e = this.engine;
    return this.with(e.mulScalar(await e.drelu(this.share), 1n << BigInt(e.f)), this.shape);
  }

  // ---- non-linear functions -----------------------------------------------------------------------
  // exp, log, reciprocal, sqrt / inverse sqrt, sigmoid, tanh, softmax and log-softmax are a separate
  // piece of work (src/tensor/nonlinear/, share-level functions `(e, x) => Promise<S>` and row-wise
  // `(e, x, rows, cols) => Promise<S>`) and have no tensor methods yet. The two hooks below are where
  // they plug in: `t.mapElementwise(exp)`, `t.mapAlongAxis(softmax, -1)`.

  /** Apply an elementwise share-level function to the whole tensor (one call, shape kept). */
  async mapElementwise(fn: (e: Engine<S>, x: S) => Promise<S>): Promise<SecretTensor<S>> {
    const y = await fn(this.engine, this.share);
    return this.with(y, this.shape);
  }

  /**
   * Apply a row-wise share-level function (rows × cols, row-major, cols = the length of `axis`) to
   * every lane along `axis` at once; the output has this tensor's shape.
   */
  async mapAlongAxis(
    fn: (e: Engine<S>, x: S, rows: number, cols: number) => Promise<S>,
    axis = -1,
  ): Promise<SecretTensor<S>> {
    const a = normAxis(axis, this.ndim);
    const perm = [...this.shape.keys()].filter((i) => i !== a);
    perm.push(a);
    const moved = this.permute(...perm);
    const cols = this.shape[a]!;
    const y = this.with(await fn(this.engine, moved.share, this.size / cols, cols), moved.shape);
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => (inv[p] = i));
    return y.permute(...inv);
  }

  /** Apply a tensor-level function (composition helper). */
  async apply(fn: (t: SecretTensor<S>) => Promise<SecretTensor<S>>): Promise<SecretTensor<S>> {
    return fn(this);
  }
}

/** [.., m, k] · [.., k, n] with broadcasting of the batch axes. */
async function matmulShares<S>(a: SecretTensor<S>, b: SecretTensor<S>): Promise<SecretTensor<S>> {
  const e = a.engine;
  if (b.engine !== e) throw invalidArgument('operands belong to different engines');
  if (a.ndim === 0 || b.ndim === 0) throw invalidArgument('matmul of a 0-D tensor');
  const aVec = a.ndim === 1;
  const bVec = b.ndim === 1;
  const A = aVec ? a.reshape([1, a.shape[0]!]) : a;
  const B = bVec ? b.reshape([b.shape[0]!, 1]) : b;
  const [m, k] = A.shape.slice(-2) as [number, number];
  const [k2, n] = B.shape.slice(-2) as [number, number];
  if (k !== k2) throw invalidArgument(`matmul: inner dimensions differ ([${a.shape}] · [${b.shape}])`);
  const aBatch = A.shape.slice(0, -2);
  const bBatch = B.shape.slice(0, -2);
  const batch = broadcastShapes(aBatch, bBatch);
  const finish = (t: SecretTensor<S>): SecretTensor<S> => {
    const shape = [...batch];
    if (!aVec) shape.push(m);
    if (!bVec) shape.push(n);
    return t.reshape(shape);
  };
  if (bBatch.every((d) => d === 1)) {
    // the batch folds into the rows: one product
    const Ab = A.broadcastTo([...batch, m, k]);
    const rows = sizeOf(batch) * m;
    return finish(new SecretTensor(e, await e.matmulFixed(Ab.share, B.share, rows, k, n), [rows, n]));
  }
  const nb = sizeOf(batch);
  const Ab = A.broadcastTo([...batch, m, k]).reshape([nb, m, k]);
  const Bb = B.broadcastTo([...batch, k, n]).reshape([nb, k, n]);
  // all products issued before any is awaited: one round for the whole batch
  const prods = [];
  for (let i = 0; i < nb; i++)
    prods.push(e.matmulFixed(Ab.slice(0, i, i + 1).share, Bb.slice(0, i, i + 1).share, m, k, n));
  const outs = await Promise.all(prods);
  return finish(new SecretTensor(e, e.concat(outs), [nb, m, n]));
}
