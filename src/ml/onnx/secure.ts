/**
 * Secure execution of an imported ONNX graph over secret tensors, for any `Engine<S>` (rep3, rep4,
 * Shamir, additive). Every IR op of docs/onnx.md is mapped to `SecretTensor` operations; public
 * operands mix in (a node whose inputs are all public is folded in plaintext by the reference
 * executor). The parties need only the public *architecture* (`Architecture`: node list, shapes,
 * attributes, the names and shapes of the weight tensors — no values); the weights are either
 *
 * - public (`{ kind: 'public', values }`),
 * - secret-shared by a model owner (`shareWeights`, one `engine.input` for all of them), or
 * - already secret tensors (`{ kind: 'secret', tensors }`, e.g. a model trained under MPC).
 *
 * The weights are addressed by *slots* (`weightSlots`): every initializer except the four
 * BatchNormalization parameters, which the weight owner folds into one per-channel scale and shift
 * (`<node output>#scale`, `<node output>#shift`, shape [C]) before sharing.
 *
 * `analyzeRanges` runs the static overflow check (src/tensor/range.ts) for a declared input bound and
 * the weights' magnitudes; where it holds, it also gives each ReLU the narrowest safe comparison width
 * (rep3 reads the sign from fewer bits: fewer rounds and bytes).
 */
import { encode } from '../../math/fixed.js';
import { conv2dGeometry } from '../../math/kernels.js';
import { conv2dPlan } from '../../protocols/conv.js';
import type { Engine } from '../../protocols/engine.js';
import { ShareholdError, invalidArgument } from '../../errors.js';
import { PublicTensor } from '../../tensor/public.js';
import { RangeTracker, type Bounded } from '../../tensor/range.js';
import { SecretTensor } from '../../tensor/tensor.js';
import { sigmoid, tanh } from '../../tensor/nonlinear/sigmoid.js';
import { logSoftmax, softmax } from '../../tensor/nonlinear/softmax.js';
import type { Dim, IrNode, OnnxGraph, TensorInfo } from './ir.js';
import { resolveReshape, runNode, transposeT, type RefTensor } from './reference.js';

// ---- the public architecture ---------------------------------------------------------------------

/** What every party learns about the model: the graph without weight values (JSON-serialisable). */
export interface Architecture {
  readonly irVersion: number;
  readonly opset: number;
  readonly producer: string;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /** Names and shapes of the initializers (no values). */
  readonly initializers: readonly { readonly name: string; readonly shape: readonly number[] }[];
  readonly nodes: readonly IrNode[];
}

/** The graph with its weight values stripped. */
export function architectureOf(graph: OnnxGraph): Architecture {
  return {
    irVersion: graph.irVersion,
    opset: graph.opset,
    producer: graph.producer,
    inputs: graph.inputs.map((i) => ({ name: i.name, shape: [...i.shape] })),
    outputs: graph.outputs.map((o) => ({ name: o.name, shape: [...o.shape] })),
    initializers: [...graph.initializers.values()].map((i) => ({ name: i.name, shape: [...i.shape] })),
    nodes: graph.nodes.map((n) => ({ ...n })),
  };
}

/** Parse an architecture received as JSON (structure checked; node semantics were checked at import). */
export function parseArchitecture(v: unknown): Architecture {
  const o = v as Partial<Architecture> | null;
  const ok =
    o !== null &&
    typeof o === 'object' &&
    typeof o.opset === 'number' &&
    Array.isArray(o.inputs) &&
    Array.isArray(o.outputs) &&
    Array.isArray(o.initializers) &&
    Array.isArray(o.nodes) &&
    (o.nodes as unknown[]).every((n) => {
      const x = n as Partial<IrNode> | null;
      return typeof x?.op === 'string' && Array.isArray(x.inputs) && typeof x.output === 'string';
    });
  if (!ok) throw new ShareholdError('input-invalid', 'model architecture message is malformed');
  return o as Architecture;
}

/** A weight tensor as the parties hold it: a name and a shape. */
export interface WeightSlot {
  readonly name: string;
  readonly shape: readonly number[];
}

const BN_PARAMS = [1, 2, 3, 4];

function bnScale(node: IrNode): string {
  return `${node.output}#scale`;
}
function bnShift(node: IrNode): string {
  return `${node.output}#shift`;
}

/** The weight slots of a model, in a fixed order every party derives from the architecture alone. */
export function weightSlots(arch: Architecture): WeightSlot[] {
  const shapes = new Map(arch.initializers.map((i) => [i.name, i.shape]));
  const usedElsewhere = new Set<string>();
  const bnOnly = new Set<string>();
  for (const n of arch.nodes)
    n.inputs.forEach((name, k) => {
      if (!shapes.has(name)) return;
      if (n.op === 'batchNorm' && BN_PARAMS.includes(k)) bnOnly.add(name);
      else usedElsewhere.add(name);
    });
  const slots: WeightSlot[] = [];
  for (const i of arch.initializers)
    if (usedElsewhere.has(i.name) || !bnOnly.has(i.name)) slots.push({ name: i.name, shape: [...i.shape] });
  for (const n of arch.nodes)
    if (n.op === 'batchNorm') {
      const c = shapes.get(n.inputs[1]!)?.[0] ?? 0;
      slots.push({ name: bnScale(n), shape: [c] }, { name: bnShift(n), shape: [c] });
    }
  return slots;
}

/** The weight owner's values for every slot (BatchNormalization folded: s = γ/√(σ²+ε), t = β − μ·s). */
export function weightValues(graph: OnnxGraph): Map<string, Float64Array> {
  const arch = architectureOf(graph);
  const out = new Map<string, Float64Array>();
  const get = (name: string): Float64Array => {
    const i = graph.initializers.get(name);
    if (i === undefined) throw invalidArgument(`initializer '${name}' has no value`);
    return Float64Array.from(i.data);
  };
  for (const s of weightSlots(arch)) if (!s.name.includes('#')) out.set(s.name, get(s.name));
  for (const n of graph.nodes)
    if (n.op === 'batchNorm') {
      const [scale, bias, mean, variance] = n.inputs.slice(1).map(get) as [
        Float64Array,
        Float64Array,
        Float64Array,
        Float64Array,
      ];
      const s = scale.map((g, c) => g / Math.sqrt(variance[c]! + n.epsilon));
      out.set(bnScale(n), s);
      out.set(
        bnShift(n),
        bias.map((b, c) => b - mean[c]! * s[c]!),
      );
    }
  return out;
}

// ---- where the weights come from -----------------------------------------------------------------

export type Weights<S> =
  | { readonly kind: 'public'; readonly values: ReadonlyMap<string, Float64Array> }
  | { readonly kind: 'secret'; readonly tensors: ReadonlyMap<string, SecretTensor<S>> };

/**
 * The model owner secret-shares every weight slot in one `engine.input` call (others pass null).
 * Only the owner needs the values; everyone needs the architecture.
 */
export async function shareWeights<S>(
  engine: Engine<S>,
  arch: Architecture,
  owner: number,
  values: ReadonlyMap<string, Float64Array> | null,
): Promise<Map<string, SecretTensor<S>>> {
  const slots = weightSlots(arch);
  const sizes = slots.map((s) => s.shape.reduce((a, b) => a * b, 1));
  const total = sizes.reduce((a, b) => a + b, 0);
  let flat: Float64Array | null = null;
  if (engine.me === owner) {
    if (values === null) throw invalidArgument(`party ${owner} owns the model but passed no weights`);
    flat = new Float64Array(total);
    let off = 0;
    slots.forEach((s, k) => {
      const v = values.get(s.name);
      if (v === undefined || v.length !== sizes[k])
        throw invalidArgument(`weight '${s.name}' missing or of the wrong size (want ${sizes[k]})`);
      flat!.set(v, off);
      off += sizes[k];
    });
  }
  const all = await ownerInput(engine, owner, flat, [total]);
  const out = new Map<string, SecretTensor<S>>();
  let off = 0;
  slots.forEach((s, k) => {
    out.set(s.name, all.slice(0, off, off + sizes[k]!).reshape([...s.shape]));
    off += sizes[k]!;
  });
  return out;
}

// ---- range analysis ------------------------------------------------------------------------------

export interface RangeAnalysis {
  readonly ok: boolean;
  /** The RangeTracker report (every step at risk, or a line saying every bound holds). */
  readonly report: string;
  /** Per ReLU node (by name): the comparison width in bits (64 = full; < 64 only when `ok`). */
  readonly reluWidths: Record<string, number>;
  /** Worst-case magnitude bound of each graph output. */
  readonly outputBounds: Record<string, number>;
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function maxAbs(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]!));
  return m;
}

/** Concrete shapes for the symbolic dims (e.g. the batch N) given the actual input shapes. */
function symbolTable(
  arch: Architecture,
  inputShapes: Record<string, readonly number[]>,
): Map<string, number> {
  const sym = new Map<string, number>();
  for (const i of arch.inputs) {
    const actual = inputShapes[i.name];
    if (actual === undefined) throw invalidArgument(`missing graph input '${i.name}'`);
    if (actual.length !== i.shape.length)
      throw new ShareholdError(
        'shape-mismatch',
        `input '${i.name}' has shape [${actual}], model expects [${i.shape}]`,
      );
    i.shape.forEach((d, k) => {
      if (typeof d === 'string') sym.set(d, actual[k]!);
      else if (d !== actual[k])
        throw new ShareholdError(
          'shape-mismatch',
          `input '${i.name}' has shape [${actual}], model expects [${i.shape}]`,
        );
    });
  }
  return sym;
}

function concrete(shape: readonly Dim[], sym: Map<string, number>): number[] {
  return shape.map((d) => (typeof d === 'number' ? d : (sym.get(d) ?? 1)));
}

/**
 * Static overflow check of the whole graph for inputs with |x| ≤ inputBound and the given weights
 * (their max magnitudes; `weightBound` for weights the analyst does not know), at f fractional bits.
 * Only ReLUs get a narrowed comparison width, and only when every bound of the graph holds.
 */
export function analyzeRanges(
  arch: Architecture,
  opts: {
    f: number;
    inputBound: number;
    weights?: ReadonlyMap<string, ArrayLike<number>>;
    weightBound?: number;
    inputShapes?: Record<string, readonly number[]>;
  },
): RangeAnalysis {
  const rt = new RangeTracker(opts.f);
  const shapes =
    opts.inputShapes ??
    Object.fromEntries(arch.inputs.map((i) => [i.name, i.shape.map((d) => (typeof d === 'number' ? d : 1))]));
  const sym = symbolTable(arch, shapes);
  const vals = new Map<string, Bounded>();
  const slotBound = (name: string): number => {
    const w = opts.weights?.get(name);
    if (w !== undefined) return maxAbs(w);
    if (opts.weightBound !== undefined) return opts.weightBound;
    throw invalidArgument(`no value and no bound for weight '${name}'`);
  };
  for (const s of weightSlots(arch))
    if (!s.name.includes('#')) vals.set(s.name, rt.input(s.shape, slotBound(s.name), s.name));
  for (const i of arch.inputs) vals.set(i.name, rt.input(shapes[i.name]!, opts.inputBound, i.name));
  const as = (b: Bounded, shape: readonly number[]): Bounded => ({ ...b, shape: [...shape] });
  const fresh = (shape: readonly number[], bound: number, label: string): Bounded =>
    rt.input(shape, bound, label);
  const reluIn = new Map<string, number>();
  for (const node of arch.nodes) {
    const out = concrete(node.shape, sym);
    const a = (k: number): Bounded => {
      const v = vals.get(node.inputs[k]!);
      if (v === undefined)
        throw invalidArgument(`${node.onnxOp} '${node.name}': input '${node.inputs[k]}' unknown`);
      return v;
    };
    const L = node.name;
    let r: Bounded;
    switch (node.op) {
      case 'gemm': {
        const x = a(0);
        const w = a(1);
        const [m, k] = node.transA ? [x.shape[1]!, x.shape[0]!] : [x.shape[0]!, x.shape[1]!];
        const n = node.transB ? w.shape[0]! : w.shape[1]!;
        r = rt.matmul(as(x, [m, k]), as(w, [k, n]), L);
        if (node.alpha !== 1) r = rt.scale(r, node.alpha, `${L} (alpha)`);
        if (node.inputs[2] !== undefined)
          r = rt.add(as(r, []), as(rt.scale(a(2), node.beta), []), `${L} (bias)`);
        break;
      }
      case 'matmul': {
        const x = a(0);
        const w = a(1);
        const k = x.shape[x.shape.length - 1]!;
        r = rt.matmul(as(x, [1, k]), as(w, [k, 1]), L);
        break;
      }
      case 'add':
      case 'sub':
        r = rt.add(as(a(0), []), as(a(1), []), L);
        break;
      case 'mul':
        r = rt.mul(as(a(0), []), as(a(1), []), L);
        break;
      case 'relu':
        reluIn.set(node.name, a(0).maxAbs);
        r = rt.monotone(a(0), L);
        break;
      case 'maxPool2d':
      case 'identity':
      case 'flatten':
      case 'reshape':
      case 'transpose':
      case 'squeeze':
      case 'unsqueeze':
        r = rt.monotone(a(0), L);
        break;
      case 'sigmoid':
      case 'tanh':
      case 'softmax':
        r = fresh(out, 1, L);
        break;
      case 'logSoftmax':
        r = fresh(out, 16 + Math.log(a(0).shape[node.axis] ?? 1) + 1, L);
        break;
      case 'conv2d': {
        const w = a(1);
        r = rt.conv2d(a(0), w, out, L);
        if (node.inputs[2] !== undefined) r = rt.add(as(r, []), as(a(2), []), `${L} (bias)`);
        break;
      }
      case 'avgPool2d': {
        const k = node.kernel[0] * node.kernel[1];
        const s = rt.scale(a(0), k, `${L} (window sum)`);
        r = rt.scale(s, 1 / k, L);
        break;
      }
      case 'globalAvgPool': {
        const x = a(0);
        const sp = size(x.shape.slice(2));
        r = rt.mean(as(x, [sp]), 0, L);
        break;
      }
      case 'batchNorm': {
        const s = fresh([], slotBound(bnScale(node)), `${L} (scale)`);
        const t = fresh([], slotBound(bnShift(node)), `${L} (shift)`);
        r = rt.add(as(rt.mul(as(a(0), []), s, `${L} (·scale)`), []), t, L);
        break;
      }
      case 'concat':
        r = fresh(out, Math.max(...node.inputs.map((_, k) => a(k).maxAbs)), L);
        break;
    }
    vals.set(node.output, as(r, out));
  }
  const reluWidths: Record<string, number> = {};
  for (const [name, b] of reluIn) {
    // |x·2^f| plus 2 ulp (stochastic truncation) must stay below 2^(k−1); one more bit of margin
    const ring = b * 2 ** opts.f + 2;
    const k = Math.ceil(Math.log2(ring)) + 2;
    reluWidths[name] = rt.ok && Number.isFinite(k) ? Math.min(64, Math.max(8, k)) : 64;
  }
  const outputBounds: Record<string, number> = {};
  for (const o of arch.outputs) outputBounds[o.name] = vals.get(o.name)?.maxAbs ?? Infinity;
  return { ok: rt.ok, report: rt.report(), reluWidths, outputBounds };
}

// ---- secure execution ----------------------------------------------------------------------------

type Val<S> = SecretTensor<S> | PublicTensor;

export interface SecureRunOptions<S> {
  readonly weights: Weights<S>;
  /** Graph inputs, already secret-shared (see `shareInput`). */
  readonly inputs: Readonly<Record<string, SecretTensor<S>>>;
  /**
   * Per ReLU node: the comparison width in bits, from `analyzeRanges` (used by rep3; other schemes
   * compare on their full width). Omit for full-width comparisons.
   */
  readonly reluWidths?: Readonly<Record<string, number>>;
}

/** Party `owner` secret-shares an input tensor (row-major values; others pass null). */
export function shareInput<S>(
  engine: Engine<S>,
  owner: number,
  data: ArrayLike<number> | null,
  shape: readonly number[],
): Promise<SecretTensor<S>> {
  return ownerInput(engine, owner, data, shape);
}

/**
 * An owner's input. Where the engine offers an owner-sparse input (rep3 `inputSparse`: one share
 * component is zero, no party but the owner holds two non-zero ones) it is used: the owner sends half
 * the bytes and the matrix products with it do one local ring product instead of two at two parties.
 */
async function ownerInput<S>(
  engine: Engine<S>,
  owner: number,
  data: ArrayLike<number> | null,
  shape: readonly number[],
): Promise<SecretTensor<S>> {
  const sparse = engine as unknown as {
    inputSparse?: (owner: number, x: BigUint64Array | null, n: number) => Promise<S>;
  };
  if (typeof sparse.inputSparse !== 'function')
    return SecretTensor.fromOwner(engine, owner, data, [...shape]);
  const n = size(shape);
  let enc: BigUint64Array | null = null;
  if (engine.me === owner) {
    if (data === null) throw invalidArgument(`party ${owner} owns the input but passed no data`);
    if (data.length !== n)
      throw invalidArgument(`input has ${data.length} values, shape [${shape}] wants ${n}`);
    enc = encode(data, engine.f);
  }
  return SecretTensor.fromShare(engine, await sparse.inputSparse.call(engine, owner, enc, n), [...shape]);
}

function toRef(p: PublicTensor): RefTensor {
  return { shape: p.shape, data: p.data };
}

function fromRef(r: RefTensor): PublicTensor {
  return new PublicTensor(r.data, [...r.shape]);
}

function lift<S>(e: Engine<S>, v: Val<S>): SecretTensor<S> {
  return v instanceof SecretTensor ? v : SecretTensor.fromPublic(e, v);
}

/**
 * Transposed weights, kept per share object (secret) or tensor object (public): a model shared once
 * and queried many times gathers its Gemm(transB) weights once (the gather is local, but on the hot
 * path of every query otherwise). Keyed on the share rather than the tensor so that the row blocks of
 * a split query, which wrap the same shares in tensors of their forked sessions, hit it too.
 */
const transposed = new WeakMap<object, Val<unknown>>();
const transposedShares = new WeakMap<object, { share: unknown; shape: readonly number[] }>();

/** A secret weight (e.g. a bias) broadcast to a batch shape, kept per tensor object and shape. */
const broadcasts = new WeakMap<object, Map<string, SecretTensor<unknown>>>();

function broadcastCached<S>(t: SecretTensor<S>, shape: readonly number[]): SecretTensor<S> {
  let m = broadcasts.get(t);
  if (m === undefined) broadcasts.set(t, (m = new Map<string, SecretTensor<unknown>>()));
  const key = shape.join(',');
  const hit = m.get(key) as SecretTensor<S> | undefined;
  if (hit !== undefined) return hit;
  const b = t.broadcastTo([...shape]);
  m.set(key, b);
  return b;
}

function transposeVal<S>(v: Val<S>): Val<S> {
  if (v instanceof SecretTensor && typeof v.share === 'object' && v.share !== null) {
    const got = transposedShares.get(v.share);
    if (got !== undefined) return SecretTensor.fromShare(v.engine, got.share as S, [...got.shape]);
    const t = v.transpose();
    transposedShares.set(v.share, { share: t.share, shape: t.shape });
    return t;
  }
  const hit = transposed.get(v) as Val<S> | undefined;
  if (hit !== undefined) return hit;
  const t = v instanceof SecretTensor ? v.transpose() : fromRef(transposeT(toRef(v), [1, 0]));
  transposed.set(v, t);
  return t;
}

function scalePublic(p: PublicTensor, c: number): PublicTensor {
  return new PublicTensor(
    p.data.map((v) => v * c),
    p.shape,
  );
}

async function matmulVal<S>(e: Engine<S>, a: Val<S>, b: Val<S>): Promise<SecretTensor<S>> {
  if (a instanceof SecretTensor) return a.matmul(b);
  if (b instanceof SecretTensor) return b.rmatmul(a);
  return SecretTensor.fromPublic(e, a).matmul(b);
}

/** A very negative fixed-point value for max-pool padding: −2^61 ring units (never the max). */
const NEG = BigInt.asUintN(64, -(1n << 61n));

/** Pad the two spatial axes of an N×C×H×W tensor (pads [top, left, bottom, right]) with `fill` (local). */
export function padSpatial<S>(
  x: SecretTensor<S>,
  pads: readonly [number, number, number, number],
  fill: bigint,
): SecretTensor<S> {
  const e = x.engine;
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [t, l, b, r] = pads;
  if (t === 0 && l === 0 && b === 0 && r === 0) return x;
  const H = h + t + b;
  const W = w + l + r;
  const src = x.size; // the appended fill element
  const idx = new Int32Array(n * c * H * W);
  for (let p = 0; p < n * c; p++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++) {
        const yi = i - t;
        const xj = j - l;
        idx[(p * H + i) * W + j] = yi >= 0 && yi < h && xj >= 0 && xj < w ? (p * h + yi) * w + xj : src;
      }
  const padded = e.concat([x.share, e.constant(BigUint64Array.of(fill))]);
  return SecretTensor.fromShare(e, e.gather(padded, idx), [n, c, H, W]);
}

function symmetric(p: readonly [number, number, number, number]): boolean {
  return p[0] === p[2] && p[1] === p[3];
}

/**
 * Average pooling with ONNX semantics for any pads: explicit zero padding, local window sums, then
 * one product with the public per-position factor 1/cells (cells = kh·kw, or the cells inside the
 * unpadded input when count_include_pad = 0) — a single truncation.
 */
async function avgPoolSecure<S>(
  x: SecretTensor<S>,
  node: Extract<IrNode, { op: 'maxPool2d' | 'avgPool2d' }>,
): Promise<SecretTensor<S>> {
  const e = x.engine;
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [kh, kw] = node.kernel;
  const [sh, sw] = node.strides;
  const [t, l] = node.pads;
  const xp = padSpatial(x, node.pads, 0n);
  const [, , H, W] = xp.shape as [number, number, number, number];
  const g = conv2dGeometry({ n: n * c, c: 1, h: H, w: W, o: 1, kh, kw, stride: [sh, sw], pad: 0 });
  const { cols } = conv2dPlan(g);
  const K = kh * kw;
  const P = n * c * g.oh * g.ow;
  const idx = new Int32Array(K * P);
  for (let k = 0; k < K; k++) for (let p = 0; p < P; p++) idx[p * K + k] = cols[k * P + p]!;
  const windows = SecretTensor.fromShare(e, e.gather(xp.share, idx), [P, K]);
  const sums = windows.sum(1).reshape([n * c, g.oh, g.ow]);
  // per output position: how many window cells lie inside the unpadded input
  const factor = new Float64Array(g.oh * g.ow);
  let uniform = true;
  for (let y = 0; y < g.oh; y++)
    for (let z = 0; z < g.ow; z++) {
      let cells = K;
      if (!node.countIncludePad) {
        cells = 0;
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            const yi = y * sh + i - t;
            const xj = z * sw + j - l;
            if (yi >= 0 && yi < h && xj >= 0 && xj < w) cells++;
          }
      }
      factor[y * g.ow + z] = 1 / cells;
      if (cells !== K) uniform = false;
    }
  const y = uniform ? await sums.mulScalar(1 / K) : await sums.mul(new PublicTensor(factor, [1, g.oh, g.ow]));
  return y.reshape([n, c, g.oh, g.ow]);
}

async function reluVal<S>(x: SecretTensor<S>, width: number | undefined): Promise<SecretTensor<S>> {
  const e = x.engine;
  if (width !== undefined && width < 64 && e.scheme === 'rep3') {
    // Rep3Session.relu(x, width): the sign from `width` bits (bound proved by analyzeRanges)
    const narrow = e as unknown as { relu(x: S, width: number): Promise<{ y: S; d: S }> };
    const { y } = await narrow.relu(x.share, width);
    return SecretTensor.fromShare(e, y, [...x.shape]);
  }
  return x.relu();
}

/** Run one IR node on secret/public values. */
async function runSecureNode<S>(
  e: Engine<S>,
  node: IrNode,
  args: Val<S>[],
  weights: (name: string) => Val<S>,
  reluWidths: Readonly<Record<string, number>>,
): Promise<Val<S>> {
  const x0 = args[0]!;
  if (node.op === 'batchNorm') {
    const rank = x0.shape.length;
    const shape = [1, x0.shape[1]!, ...new Array<number>(Math.max(0, rank - 2)).fill(1)];
    const s = weights(bnScale(node));
    const t = weights(bnShift(node));
    const sr = s instanceof SecretTensor ? s.reshape(shape) : new PublicTensor(s.data, shape);
    const tr = t instanceof SecretTensor ? t.reshape(shape) : new PublicTensor(t.data, shape);
    if (x0 instanceof SecretTensor) return (await x0.mul(sr)).add(tr);
    if (sr instanceof SecretTensor) return (await sr.mul(x0)).add(tr);
    const prod = runNode({ ...node, op: 'mul', inputs: [] }, [toRef(x0), toRef(sr)]);
    return fromRef(runNode({ ...node, op: 'add', inputs: [] }, [prod, toRef(tr as PublicTensor)]));
  }
  // constant folding: every input public → plaintext reference op
  if (args.every((a) => a instanceof PublicTensor))
    return fromRef(
      runNode(
        node,
        args.map((a) => toRef(a)),
      ),
    );
  const x = (): SecretTensor<S> => lift(e, x0);
  switch (node.op) {
    case 'gemm': {
      let a = node.transA ? transposeVal(x0) : x0;
      let b = node.transB ? transposeVal(args[1]!) : args[1]!;
      let alphaDone = node.alpha === 1;
      if (!alphaDone && b instanceof PublicTensor) {
        b = scalePublic(b, node.alpha);
        alphaDone = true;
      } else if (!alphaDone && a instanceof PublicTensor) {
        a = scalePublic(a, node.alpha);
        alphaDone = true;
      }
      const c = args[2];
      // secret input, alpha 1, secret bias [n] with beta 1: product and bias under one truncation
      // (rep3: the output keeps its sign hint for the next ReLU)
      if (
        alphaDone &&
        a instanceof SecretTensor &&
        c instanceof SecretTensor &&
        node.beta === 1 &&
        a.ndim === 2 &&
        c.ndim === 1 &&
        b.shape.length === 2 &&
        c.shape[0] === b.shape[1]
      )
        return a.matmulBias(b, c);
      let y = await matmulVal(e, a, b);
      if (!alphaDone) y = await y.mulScalar(node.alpha);
      if (c !== undefined) {
        if (c instanceof PublicTensor) y = y.add(node.beta === 1 ? c : scalePublic(c, node.beta));
        else y = y.add(broadcastCached(node.beta === 1 ? c : await c.mulScalar(node.beta), y.shape));
      }
      return y;
    }
    case 'matmul':
      return matmulVal(e, x0, args[1]!);
    case 'add':
      return x0 instanceof SecretTensor ? x0.add(args[1]!) : (args[1] as SecretTensor<S>).add(x0);
    case 'sub':
      return x0 instanceof SecretTensor ? x0.sub(args[1]!) : (args[1] as SecretTensor<S>).rsub(x0);
    case 'mul':
      return x0 instanceof SecretTensor ? x0.mul(args[1]!) : (args[1] as SecretTensor<S>).mul(x0);
    case 'relu':
      return reluVal(x(), reluWidths[node.name]);
    case 'sigmoid':
      return x().mapElementwise((en, s) => sigmoid(en, s));
    case 'tanh':
      return x().mapElementwise((en, s) => tanh(en, s));
    case 'softmax':
      return x().mapAlongAxis((en, s, r, c) => softmax(en, s, r, c), node.axis);
    case 'logSoftmax':
      return x().mapAlongAxis((en, s, r, c) => logSoftmax(en, s, r, c), node.axis);
    case 'conv2d': {
      const w = args[1]!;
      const b = args[2];
      const sym = symmetric(node.pads);
      const xin = sym ? x() : padSpatial(x(), node.pads, 0n);
      return xin.conv2d(w, {
        stride: node.strides,
        pad: sym ? [node.pads[0], node.pads[1]] : 0,
        ...(b !== undefined ? { bias: b } : {}),
      });
    }
    case 'maxPool2d': {
      const sym = symmetric(node.pads);
      const xin = sym ? x() : padSpatial(x(), node.pads, NEG);
      return xin.maxPool2d(node.kernel, {
        stride: node.strides,
        pad: sym ? [node.pads[0], node.pads[1]] : 0,
      });
    }
    case 'avgPool2d':
      return avgPoolSecure(x(), node);
    case 'globalAvgPool': {
      const t = x();
      const [n, c] = t.shape as [number, number];
      const m = await t.reshape([n, c, -1]).mean(2);
      return m.reshape([n, c, ...t.shape.slice(2).map(() => 1)]);
    }
    case 'flatten': {
      const t = x();
      return t.reshape([size(t.shape.slice(0, node.axis)), size(t.shape.slice(node.axis))]);
    }
    case 'reshape': {
      const t = x();
      return t.reshape(resolveReshape(t.shape, node.target));
    }
    case 'transpose':
      return x().permute(...node.perm);
    case 'identity':
      return x0;
    case 'concat':
      return SecretTensor.concat(
        args.map((a) => lift(e, a)),
        node.axis,
      );
    case 'squeeze': {
      const t = x();
      return t.reshape(t.shape.filter((_, i) => !node.axes.includes(i)));
    }
    case 'unsqueeze': {
      const t = x();
      const shape: number[] = [];
      let k = 0;
      for (let i = 0; i < t.ndim + node.axes.length; i++)
        shape.push(node.axes.includes(i) ? 1 : t.shape[k++]!);
      return t.reshape(shape);
    }
  }
}

/**
 * Run the graph on secret inputs; returns every graph output as a secret tensor (reveal it to whom
 * the job says). Every party calls this with the same architecture and options.
 */
export async function runSecure<S>(
  engine: Engine<S>,
  arch: Architecture,
  opts: SecureRunOptions<S>,
): Promise<Record<string, SecretTensor<S>>> {
  const values = new Map<string, Val<S>>();
  const w = opts.weights;
  const weight = (name: string): Val<S> => {
    if (w.kind === 'public') {
      const v = w.values.get(name);
      if (v === undefined) throw invalidArgument(`no value for weight '${name}'`);
      const slot = weightSlots(arch).find((s) => s.name === name);
      return new PublicTensor(v, slot ? [...slot.shape] : [v.length]);
    }
    const t = w.tensors.get(name);
    if (t === undefined) throw invalidArgument(`no secret tensor for weight '${name}'`);
    return t;
  };
  for (const s of weightSlots(arch)) if (!s.name.includes('#')) values.set(s.name, weight(s.name));
  symbolTable(arch, Object.fromEntries(Object.entries(opts.inputs).map(([k, v]) => [k, v.shape])));
  for (const i of arch.inputs) values.set(i.name, opts.inputs[i.name]!);
  const widths = opts.reluWidths ?? {};
  for (const node of arch.nodes) {
    // batchNorm reads its folded parameters from the weight slots, not from its inputs 1..4
    const names = node.op === 'batchNorm' ? node.inputs.slice(0, 1) : node.inputs;
    const args = names.map((name) => {
      const v = values.get(name);
      if (v === undefined)
        throw new ShareholdError(
          'shape-mismatch',
          `${node.onnxOp} '${node.name}': input '${name}' has no value`,
        );
      return v;
    });
    values.set(node.output, await runSecureNode(engine, node, args, weight, widths));
  }
  const out: Record<string, SecretTensor<S>> = {};
  for (const o of arch.outputs) {
    const v = values.get(o.name);
    if (v === undefined) throw invalidArgument(`graph output '${o.name}' was not computed`);
    out[o.name] = lift(engine, v);
  }
  return out;
}

/**
 * Preprocessed material a query consumes (for the offline phase before it): truncation pairs per
 * truncated output and comparison material (daBits) per compared element. Matrix products, ReLU and
 * pooling are counted exactly; the non-linear functions by per-element factors measured on rep3 at
 * f = 16 (sigmoid/tanh: 19 truncations and 3 comparisons per element; softmax/log-softmax: at most 16
 * and 2.5), plus a margin (10% and 2048) for the word alignment of bit-sliced material. Material that
 * is still missing is generated on demand inside the online phase (correct, but counted there).
 */
export function estimatePreprocessing(
  arch: Architecture,
  inputShapes: Record<string, readonly number[]>,
): { trunc: number; compare: number; truncSign: number } {
  const sym = symbolTable(arch, inputShapes);
  let trunc = 0;
  let compare = 0;
  let truncSign = 0;
  for (const node of arch.nodes) {
    const out = size(concrete(node.shape, sym));
    switch (node.op) {
      case 'gemm':
        // with a bias: one fused product (`matmulBias`), rep3 takes sign-hinted triples for it
        if (node.inputs.length > 2) truncSign += out;
        else trunc += out;
        break;
      case 'matmul':
      case 'conv2d':
      case 'mul':
      case 'avgPool2d':
      case 'globalAvgPool':
      case 'batchNorm':
        trunc += out;
        break;
      case 'relu':
        compare += Math.ceil(out / 32) * 32;
        break;
      case 'sigmoid':
      case 'tanh':
        trunc += 19 * out;
        compare += 3 * out;
        break;
      case 'softmax':
      case 'logSoftmax':
        trunc += 16 * out;
        compare += Math.ceil(2.5 * out);
        break;
      case 'maxPool2d':
        compare += (node.kernel[0] * node.kernel[1] - 1) * out;
        break;
      default:
        break;
    }
  }
  const margin = (v: number): number => (v === 0 ? 0 : Math.ceil(v * 1.1) + 2048);
  return { trunc: margin(trunc), compare: margin(compare), truncSign: margin(truncSign) };
}
