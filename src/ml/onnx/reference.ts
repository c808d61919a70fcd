/**
 * Plaintext float64 reference executor for the ONNX IR: the oracle that the secure execution is
 * checked against. Straightforward loops, no cleverness; every op follows the ONNX definition.
 */
import { ShareholdError } from '../../errors.js';
import type { IrNode, OnnxGraph } from './ir.js';

/** A dense row-major float64 tensor. */
export interface RefTensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

function size(shape: readonly number[]): number {
  let p = 1;
  for (const d of shape) p *= d;
  return p;
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = (s[i + 1] as number) * (shape[i + 1] as number);
  return s;
}

function fail(node: IrNode, message: string): never {
  throw new ShareholdError('shape-mismatch', `${node.onnxOp} '${node.name}': ${message}`, {
    node: node.name,
  });
}

function tensor(shape: readonly number[], data?: Float64Array): RefTensor {
  return { shape: [...shape], data: data ?? new Float64Array(size(shape)) };
}

/** Broadcast elementwise binary op (numpy rules). */
export function broadcastBinary(a: RefTensor, b: RefTensor, f: (x: number, y: number) => number): RefTensor {
  const r = Math.max(a.shape.length, b.shape.length);
  const as = [...new Array<number>(r - a.shape.length).fill(1), ...a.shape];
  const bs = [...new Array<number>(r - b.shape.length).fill(1), ...b.shape];
  const os: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = as[i] as number;
    const y = bs[i] as number;
    if (x !== y && x !== 1 && y !== 1) {
      throw new ShareholdError('shape-mismatch', `[${a.shape}] and [${b.shape}] do not broadcast`);
    }
    os.push(x === 1 ? y : x);
  }
  const out = tensor(os);
  const ast = strides(as).map((s, i) => (as[i] === 1 ? 0 : s));
  const bst = strides(bs).map((s, i) => (bs[i] === 1 ? 0 : s));
  const n = out.data.length;
  const idx = new Array<number>(r).fill(0);
  let ai = 0;
  let bi = 0;
  for (let k = 0; k < n; k++) {
    out.data[k] = f(a.data[ai] as number, b.data[bi] as number);
    for (let d = r - 1; d >= 0; d--) {
      idx[d] = (idx[d] as number) + 1;
      ai += ast[d] as number;
      bi += bst[d] as number;
      if ((idx[d] as number) < (os[d] as number)) break;
      ai -= (ast[d] as number) * (os[d] as number);
      bi -= (bst[d] as number) * (os[d] as number);
      idx[d] = 0;
    }
  }
  return out;
}

export function transposeT(x: RefTensor, perm: readonly number[]): RefTensor {
  const os = perm.map((p) => x.shape[p] as number);
  const xs = strides(x.shape);
  const out = tensor(os);
  const r = os.length;
  const idx = new Array<number>(r).fill(0);
  const pst = perm.map((p) => xs[p] as number);
  let src = 0;
  for (let k = 0; k < out.data.length; k++) {
    out.data[k] = x.data[src] as number;
    for (let d = r - 1; d >= 0; d--) {
      idx[d] = (idx[d] as number) + 1;
      src += pst[d] as number;
      if ((idx[d] as number) < (os[d] as number)) break;
      src -= (pst[d] as number) * (os[d] as number);
      idx[d] = 0;
    }
  }
  return out;
}

/** 2-D matrix product of row-major [m,k] × [k,n]. */
function matmul2(
  a: Float64Array,
  aOff: number,
  b: Float64Array,
  bOff: number,
  out: Float64Array,
  oOff: number,
  m: number,
  k: number,
  n: number,
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += (a[aOff + i * k + t] as number) * (b[bOff + t * n + j] as number);
      out[oOff + i * n + j] = s;
    }
  }
}

export function matmulT(a: RefTensor, b: RefTensor): RefTensor {
  const a2 = a.shape.length === 1 ? [1, a.shape[0] as number] : [...a.shape];
  const b2 = b.shape.length === 1 ? [b.shape[0] as number, 1] : [...b.shape];
  const m = a2[a2.length - 2] as number;
  const k = a2[a2.length - 1] as number;
  const n = b2[b2.length - 1] as number;
  if (b2[b2.length - 2] !== k)
    throw new ShareholdError('shape-mismatch', `matmul [${a.shape}] × [${b.shape}]`);
  const aBatch = a2.slice(0, -2);
  const bBatch = b2.slice(0, -2);
  // Broadcast batch dims by broadcasting batch index tensors.
  const ai = broadcastBinary(
    tensor(
      aBatch,
      Float64Array.from({ length: size(aBatch) }, (_, i) => i),
    ),
    tensor(bBatch, new Float64Array(size(bBatch))),
    (x) => x,
  );
  const bi = broadcastBinary(
    tensor(aBatch, new Float64Array(size(aBatch))),
    tensor(
      bBatch,
      Float64Array.from({ length: size(bBatch) }, (_, i) => i),
    ),
    (_x, y) => y,
  );
  const batch = ai.shape;
  const out = tensor([...batch, m, n]);
  for (let t = 0; t < ai.data.length; t++) {
    matmul2(
      a.data,
      (ai.data[t] as number) * m * k,
      b.data,
      (bi.data[t] as number) * k * n,
      out.data,
      t * m * n,
      m,
      k,
      n,
    );
  }
  const shape = [...batch];
  if (a.shape.length > 1) shape.push(m);
  if (b.shape.length > 1) shape.push(n);
  return tensor(shape, out.data);
}

function softmaxT(x: RefTensor, axis: number, log: boolean): RefTensor {
  const out = tensor(x.shape);
  const d = x.shape[axis] as number;
  const inner = size(x.shape.slice(axis + 1));
  const outer = size(x.shape.slice(0, axis));
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * d * inner + i;
      let mx = -Infinity;
      for (let j = 0; j < d; j++) mx = Math.max(mx, x.data[base + j * inner] as number);
      let s = 0;
      for (let j = 0; j < d; j++) s += Math.exp((x.data[base + j * inner] as number) - mx);
      for (let j = 0; j < d; j++) {
        const z = (x.data[base + j * inner] as number) - mx;
        out.data[base + j * inner] = log ? z - Math.log(s) : Math.exp(z) / s;
      }
    }
  }
  return out;
}

interface Window {
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly pads: readonly [number, number, number, number];
}

function outHW(x: RefTensor, w: Window): [number, number] {
  const h = x.shape[2] as number;
  const wd = x.shape[3] as number;
  return [
    Math.floor((h + w.pads[0] + w.pads[2] - w.kernel[0]) / w.strides[0]) + 1,
    Math.floor((wd + w.pads[1] + w.pads[3] - w.kernel[1]) / w.strides[1]) + 1,
  ];
}

function conv2dT(x: RefTensor, w: RefTensor, b: RefTensor | undefined, win: Window): RefTensor {
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const m = w.shape[0] as number;
  const [kh, kw] = win.kernel;
  const [oh, ow] = outHW(x, win);
  const out = tensor([n, m, oh, ow]);
  for (let ni = 0; ni < n; ni++)
    for (let mi = 0; mi < m; mi++)
      for (let y = 0; y < oh; y++)
        for (let z = 0; z < ow; z++) {
          let s = b ? (b.data[mi] as number) : 0;
          for (let ci = 0; ci < c; ci++)
            for (let i = 0; i < kh; i++) {
              const yy = y * win.strides[0] + i - win.pads[0];
              if (yy < 0 || yy >= h) continue;
              for (let j = 0; j < kw; j++) {
                const zz = z * win.strides[1] + j - win.pads[1];
                if (zz < 0 || zz >= wd) continue;
                s +=
                  (x.data[((ni * c + ci) * h + yy) * wd + zz] as number) *
                  (w.data[((mi * c + ci) * kh + i) * kw + j] as number);
              }
            }
          out.data[((ni * m + mi) * oh + y) * ow + z] = s;
        }
  return out;
}

function pool2dT(x: RefTensor, win: Window, max: boolean, countIncludePad: boolean): RefTensor {
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const [kh, kw] = win.kernel;
  const [oh, ow] = outHW(x, win);
  const out = tensor([n, c, oh, ow]);
  for (let p = 0; p < n * c; p++)
    for (let y = 0; y < oh; y++)
      for (let z = 0; z < ow; z++) {
        let acc = max ? -Infinity : 0;
        let cnt = 0;
        let padded = 0;
        for (let i = 0; i < kh; i++) {
          const yy = y * win.strides[0] + i - win.pads[0];
          for (let j = 0; j < kw; j++) {
            const zz = z * win.strides[1] + j - win.pads[1];
            // Padded window cells inside [−pad, size+pad) count for count_include_pad.
            if (yy >= -win.pads[0] && yy < h + win.pads[2] && zz >= -win.pads[1] && zz < wd + win.pads[3])
              padded++;
            if (yy < 0 || yy >= h || zz < 0 || zz >= wd) continue;
            const v = x.data[(p * h + yy) * wd + zz] as number;
            acc = max ? Math.max(acc, v) : acc + v;
            cnt++;
          }
        }
        out.data[(p * oh + y) * ow + z] = max ? acc : acc / (countIncludePad ? padded : cnt);
      }
  return out;
}

/** The concrete output shape of an ONNX Reshape target (0 = copy, -1 = infer). */
export function resolveReshape(inShape: readonly number[], target: readonly number[]): number[] {
  const total = size(inShape);
  const out = target.map((d, i) => (d === 0 ? (inShape[i] as number) : d));
  const hole = out.indexOf(-1);
  if (hole >= 0) {
    const known = size(out.filter((_, i) => i !== hole));
    out[hole] = known === 0 ? 0 : total / known;
  }
  if (size(out) !== total || out.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ShareholdError('shape-mismatch', `cannot reshape [${inShape}] to [${target}]`);
  }
  return out;
}

function concatT(xs: RefTensor[], axis: number): RefTensor {
  const first = xs[0] as RefTensor;
  const shape = [...first.shape];
  shape[axis] = xs.reduce((s, x) => s + (x.shape[axis] as number), 0);
  const out = tensor(shape);
  const outer = size(first.shape.slice(0, axis));
  let off = 0;
  for (let o = 0; o < outer; o++) {
    for (const x of xs) {
      const chunk = size(x.shape.slice(axis));
      out.data.set(x.data.subarray(o * chunk, (o + 1) * chunk), off);
      off += chunk;
    }
  }
  return out;
}

/** Run one IR node on concrete inputs. */
export function runNode(node: IrNode, args: RefTensor[]): RefTensor {
  const x = args[0] as RefTensor;
  const map = (f: (v: number) => number): RefTensor => tensor(x.shape, x.data.map(f));
  switch (node.op) {
    case 'gemm': {
      if (x.shape.length !== 2 || args[1]?.shape.length !== 2) fail(node, 'Gemm operands must be 2-D');
      const a = node.transA ? transposeT(x, [1, 0]) : x;
      const b = node.transB ? transposeT(args[1], [1, 0]) : args[1];
      let y = matmulT(a, b);
      if (node.alpha !== 1)
        y = tensor(
          y.shape,
          y.data.map((v) => v * node.alpha),
        );
      const c = args[2];
      if (c !== undefined) y = broadcastBinary(y, c, (u, v) => u + node.beta * v);
      return y;
    }
    case 'matmul':
      return matmulT(x, args[1] as RefTensor);
    case 'add':
      return broadcastBinary(x, args[1] as RefTensor, (a, b) => a + b);
    case 'sub':
      return broadcastBinary(x, args[1] as RefTensor, (a, b) => a - b);
    case 'mul':
      return broadcastBinary(x, args[1] as RefTensor, (a, b) => a * b);
    case 'relu':
      return map((v) => (v > 0 ? v : 0));
    case 'sigmoid':
      return map((v) => 1 / (1 + Math.exp(-v)));
    case 'tanh':
      return map(Math.tanh);
    case 'identity':
      return x;
    case 'softmax':
    case 'logSoftmax':
      return softmaxT(x, node.axis, node.op === 'logSoftmax');
    case 'conv2d':
      if (x.shape.length !== 4) fail(node, `input [${x.shape}] is not 4-D`);
      if (x.shape[1] !== args[1]?.shape[1]) fail(node, `input [${x.shape}] vs weights [${args[1]?.shape}]`);
      return conv2dT(x, args[1] as RefTensor, args[2], node);
    case 'maxPool2d':
    case 'avgPool2d':
      if (x.shape.length !== 4) fail(node, `input [${x.shape}] is not 4-D`);
      return pool2dT(x, node, node.op === 'maxPool2d', node.countIncludePad);
    case 'globalAvgPool': {
      const [n, c] = x.shape as [number, number];
      const sp = size(x.shape.slice(2));
      const out = tensor([n, c, ...x.shape.slice(2).map(() => 1)]);
      for (let p = 0; p < n * c; p++) {
        let s = 0;
        for (let i = 0; i < sp; i++) s += x.data[p * sp + i] as number;
        out.data[p] = s / sp;
      }
      return out;
    }
    case 'flatten':
      return tensor([size(x.shape.slice(0, node.axis)), size(x.shape.slice(node.axis))], x.data);
    case 'reshape':
      return tensor(resolveReshape(x.shape, node.target), x.data);
    case 'transpose':
      return transposeT(x, node.perm);
    case 'batchNorm': {
      const [scale, bias, mean, variance] = args.slice(1) as [RefTensor, RefTensor, RefTensor, RefTensor];
      const c = x.shape[1] as number;
      const inner = size(x.shape.slice(2));
      const out = tensor(x.shape);
      for (let i = 0; i < x.data.length; i++) {
        const ch = Math.floor(i / inner) % c;
        const s = (scale.data[ch] as number) / Math.sqrt((variance.data[ch] as number) + node.epsilon);
        out.data[i] = ((x.data[i] as number) - (mean.data[ch] as number)) * s + (bias.data[ch] as number);
      }
      return out;
    }
    case 'concat':
      return concatT(args, node.axis);
    case 'squeeze':
      return tensor(
        x.shape.filter((_, i) => !node.axes.includes(i)),
        x.data,
      );
    case 'unsqueeze': {
      const shape: number[] = [];
      let k = 0;
      for (let i = 0; i < x.shape.length + node.axes.length; i++)
        shape.push(node.axes.includes(i) ? 1 : (x.shape[k++] as number));
      return tensor(shape, x.data);
    }
  }
}

/**
 * Run the graph on concrete inputs (by graph-input name; `data` row-major, any numeric array) and
 * return every graph output in float64.
 */
export function runReference(
  graph: OnnxGraph,
  inputs: Readonly<Record<string, { shape: readonly number[]; data: ArrayLike<number> }>>,
): Record<string, RefTensor> {
  const values = new Map<string, RefTensor>();
  for (const [name, init] of graph.initializers)
    values.set(name, tensor(init.shape, Float64Array.from(init.data)));
  for (const info of graph.inputs) {
    const v = inputs[info.name];
    if (v === undefined) throw new ShareholdError('invalid-argument', `missing graph input '${info.name}'`);
    if (v.data.length !== size(v.shape)) {
      throw new ShareholdError(
        'shape-mismatch',
        `input '${info.name}' has ${v.data.length} values for shape [${v.shape}]`,
      );
    }
    const bad =
      v.shape.length !== info.shape.length ||
      info.shape.some((d, i) => typeof d === 'number' && d !== v.shape[i]);
    if (bad)
      throw new ShareholdError(
        'shape-mismatch',
        `input '${info.name}' has shape [${v.shape}], model expects [${info.shape}]`,
      );
    values.set(info.name, tensor(v.shape, Float64Array.from(v.data)));
  }
  for (const node of graph.nodes) {
    const args = node.inputs.map((n) => {
      const t = values.get(n);
      if (t === undefined) fail(node, `input '${n}' has no value`);
      return t;
    });
    values.set(node.output, runNode(node, args));
  }
  const out: Record<string, RefTensor> = {};
  for (const o of graph.outputs) {
    const t = values.get(o.name);
    if (t === undefined)
      throw new ShareholdError('invalid-argument', `graph output '${o.name}' was not computed`);
    out[o.name] = t;
  }
  return out;
}
