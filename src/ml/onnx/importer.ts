/**
 * ONNX importer: decodes a `.onnx` file with protobufjs (schema in ./schema.ts), checks the whole
 * graph against the supported subset, and produces the typed IR of ./ir.ts. Every unsupported
 * operator, attribute value, data type or shape problem is collected first and thrown together as
 * one `input-invalid` ShareholdError whose `details.problems` lists them all — nothing is run on a
 * model that the executors could not finish.
 */
import { readFileSync } from 'node:fs';
import { ShareholdError } from '../../errors.js';
import type { Dim, ImportProblem, Initializer, IrNode, OnnxGraph, TensorInfo } from './ir.js';
import { AttributeType, DataType, decodeModel } from './schema.js';
import type { AttributeObj, ModelObj, NodeObj, TensorObj, TypeProtoObj } from './schema.js';

/** Operators accepted by the importer (ai.onnx domain). */
export const SUPPORTED_OPS: readonly string[] = [
  'Gemm',
  'MatMul',
  'Add',
  'Sub',
  'Mul',
  'Relu',
  'Sigmoid',
  'Tanh',
  'Softmax',
  'LogSoftmax',
  'Conv',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'Flatten',
  'Reshape',
  'Transpose',
  'Identity',
  'BatchNormalization',
  'Dropout',
  'Constant',
  'Concat',
  'Squeeze',
  'Unsqueeze',
];

type Shape = Dim[];

interface IntConst {
  readonly shape: number[];
  readonly values: number[];
}

type Decoded =
  | { kind: 'float'; init: Initializer }
  | { kind: 'int'; value: IntConst }
  | { kind: 'error'; problem: ImportProblem };

function product(dims: readonly number[]): number {
  let p = 1;
  for (const d of dims) p *= d;
  return p;
}

function dimsEqual(a: Dim, b: Dim): boolean {
  return a === b;
}

function fmtShape(s: readonly Dim[]): string {
  return `[${s.join(', ')}]`;
}

/** Decode a TensorProto (initializer or Constant value). */
function decodeTensor(t: TensorObj, name: string): Decoded {
  const shape = (t.dims ?? []).map(Number);
  const n = product(shape);
  const fail = (kind: ImportProblem['kind'], message: string): Decoded => ({
    kind: 'error',
    problem: { kind, node: name, message },
  });
  if (t.data_location === 1 || (t.external_data?.length ?? 0) > 0) {
    return fail('dtype', `tensor '${name}' stores its data in an external file (not supported)`);
  }
  if (t.segment !== undefined) return fail('dtype', `tensor '${name}' is segmented (not supported)`);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
    return fail('shape', `tensor '${name}' has invalid dims ${fmtShape(shape)}`);
  }
  const raw = t.raw_data !== undefined && t.raw_data.length > 0 ? t.raw_data : undefined;
  const dt = t.data_type ?? 0;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  const checkLen = (len: number): Decoded | undefined =>
    len === n
      ? undefined
      : fail('shape', `tensor '${name}' has ${len} values but dims ${fmtShape(shape)} need ${n}`);
  if (dt === DataType.FLOAT || dt === DataType.DOUBLE) {
    const f32 = dt === DataType.FLOAT;
    let data: Float32Array | Float64Array;
    if (view) {
      const width = f32 ? 4 : 8;
      if (view.byteLength % width !== 0)
        return fail('shape', `tensor '${name}' raw_data length is not a multiple of ${width}`);
      const len = view.byteLength / width;
      data = f32 ? new Float32Array(len) : new Float64Array(len);
      for (let i = 0; i < len; i++)
        data[i] = f32 ? view.getFloat32(4 * i, true) : view.getFloat64(8 * i, true);
    } else {
      data = f32 ? Float32Array.from(t.float_data ?? []) : Float64Array.from(t.double_data ?? []);
    }
    const bad = checkLen(data.length);
    if (bad) return bad;
    return { kind: 'float', init: { name, shape, dtype: f32 ? 'float32' : 'float64', data } };
  }
  if (dt === DataType.INT64 || dt === DataType.INT32) {
    let values: number[];
    if (view) {
      const width = dt === DataType.INT64 ? 8 : 4;
      if (view.byteLength % width !== 0)
        return fail('shape', `tensor '${name}' raw_data length is not a multiple of ${width}`);
      values = [];
      for (let i = 0; i < view.byteLength / width; i++) {
        values.push(width === 8 ? Number(view.getBigInt64(8 * i, true)) : view.getInt32(4 * i, true));
      }
    } else {
      values = (dt === DataType.INT64 ? t.int64_data : t.int32_data) ?? [];
      values = values.map(Number);
    }
    const bad = checkLen(values.length);
    if (bad) return bad;
    return { kind: 'int', value: { shape, values } };
  }
  return fail(
    'dtype',
    `tensor '${name}' has data_type ${dt}; only FLOAT, DOUBLE (and INT32/INT64 for shapes and axes) are supported`,
  );
}

/** Typed, checked access to a node's attributes; every problem is recorded, never thrown. */
class Attrs {
  private readonly byName = new Map<string, AttributeObj>();
  private readonly used = new Set<string>();
  constructor(
    private readonly node: string,
    private readonly op: string,
    attrs: readonly AttributeObj[],
    private readonly problems: ImportProblem[],
  ) {
    for (const a of attrs) {
      if (a.ref_attr_name !== undefined && a.ref_attr_name !== '') {
        this.problem(a.name ?? '', 'refers to a function attribute (only allowed inside functions)');
      }
      this.byName.set(a.name ?? '', a);
    }
  }
  problem(attribute: string, message: string): void {
    this.problems.push({
      kind: 'attribute',
      node: this.node,
      op: this.op,
      attribute,
      message: `${this.op} '${this.node}': attribute ${attribute} ${message}`,
    });
  }
  has(name: string): boolean {
    return this.byName.has(name);
  }
  private get(name: string, type: number, typeName: string): AttributeObj | undefined {
    const a = this.byName.get(name);
    this.used.add(name);
    if (a === undefined) return undefined;
    if (a.type !== undefined && a.type !== type) {
      this.problem(name, `has type ${a.type}, expected ${typeName}`);
      return undefined;
    }
    return a;
  }
  int(name: string, def: number): number {
    const a = this.get(name, AttributeType.INT, 'INT');
    return a === undefined ? def : Number(a.i ?? 0);
  }
  float(name: string, def: number): number {
    const a = this.get(name, AttributeType.FLOAT, 'FLOAT');
    return a === undefined ? def : Number(a.f ?? 0);
  }
  ints(name: string): number[] | undefined {
    const a = this.get(name, AttributeType.INTS, 'INTS');
    return a === undefined ? undefined : (a.ints ?? []).map(Number);
  }
  floats(name: string): number[] | undefined {
    const a = this.get(name, AttributeType.FLOATS, 'FLOATS');
    return a === undefined ? undefined : (a.floats ?? []).map(Number);
  }
  string(name: string, def: string): string {
    const a = this.get(name, AttributeType.STRING, 'STRING');
    return a === undefined ? def : new TextDecoder().decode(a.s ?? new Uint8Array());
  }
  tensor(name: string): TensorObj | undefined {
    return this.get(name, AttributeType.TENSOR, 'TENSOR')?.t;
  }
  /** Accept an attribute without interpreting it (e.g. BatchNormalization momentum). */
  ignore(...names: string[]): void {
    for (const n of names) this.used.add(n);
  }
  /** Report every attribute that the op handler did not read. */
  finish(): void {
    for (const name of this.byName.keys()) {
      if (!this.used.has(name)) this.problem(name, 'is not supported');
    }
  }
}

/** Multidirectional (numpy) broadcast; undefined when incompatible. */
function broadcast(a: readonly Dim[], b: readonly Dim[]): Shape | undefined {
  const r = Math.max(a.length, b.length);
  const out: Shape = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (dimsEqual(x, y) || y === 1) out.push(x);
    else if (x === 1) out.push(y);
    else if (typeof x === 'number' && typeof y === 'number') return undefined;
    else out.push(typeof x === 'number' ? x : y);
  }
  return out;
}

function symProduct(dims: readonly Dim[]): Dim {
  let num = 1;
  const syms: string[] = [];
  for (const d of dims) {
    if (typeof d === 'number') num *= d;
    else syms.push(d);
  }
  if (syms.length === 0) return num;
  return num === 1 ? syms.join('*') : `${syms.join('*')}*${num}`;
}

function normAxis(axis: number, rank: number): number | undefined {
  const a = axis < 0 ? axis + rank : axis;
  return a >= 0 && a < rank ? a : undefined;
}

function shapeOfType(t: TypeProtoObj | undefined): Shape | undefined | 'not-tensor' {
  if (t === undefined) return undefined;
  if (t.tensor_type === undefined) return 'not-tensor';
  const dims = t.tensor_type.shape?.dim;
  if (dims === undefined) return undefined;
  return dims.map((d, i) => (d.dim_value !== undefined ? Number(d.dim_value) : (d.dim_param ?? `?${i}`)));
}

export interface ImportOptions {
  /** Name used in error messages (e.g. the file name). */
  readonly source?: string;
}

/** Import ONNX bytes into the IR, or throw `input-invalid` listing every problem. */
export function importOnnx(bytes: Uint8Array, options: ImportOptions = {}): OnnxGraph {
  const source = options.source ?? 'ONNX model';
  let model: ModelObj;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    const message = `${source} is not a valid ONNX protobuf: ${(e as Error).message}`;
    throw new ShareholdError('input-invalid', message, { source, problems: [{ kind: 'graph', message }] });
  }
  return importModel(model, source);
}

/** Read and import a `.onnx` file. */
export function loadOnnx(path: string): OnnxGraph {
  return importOnnx(readFileSync(path), { source: path });
}

/** Import an already decoded ModelProto object. */
export function importModel(model: ModelObj, source = 'ONNX model'): OnnxGraph {
  const problems: ImportProblem[] = [];
  const graphProblem = (message: string, node?: string): void => {
    problems.push(node === undefined ? { kind: 'graph', message } : { kind: 'graph', node, message });
  };
  const graph = model.graph;
  if (graph === undefined) {
    const message = `${source} has no graph`;
    throw new ShareholdError('input-invalid', message, { source, problems: [{ kind: 'graph', message }] });
  }
  const opsets = model.opset_import ?? [];
  const defaultOpset = opsets.find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx');
  const opset = defaultOpset?.version !== undefined ? Number(defaultOpset.version) : 0;
  if (defaultOpset === undefined) graphProblem('the model imports no ai.onnx opset');
  else if (opset < 7) graphProblem(`ai.onnx opset ${opset} is too old (7 or later supported)`);

  // Constants: float initializers go into the IR; int ones only feed shapes/axes.
  const initializers = new Map<string, Initializer>();
  const intConsts = new Map<string, IntConst>();
  const env = new Map<string, Shape | undefined>();
  for (const t of graph.initializer ?? []) {
    const name = t.name ?? '';
    const d = decodeTensor(t, name);
    if (d.kind === 'float') initializers.set(name, d.init);
    else if (d.kind === 'int') intConsts.set(name, d.value);
    else problems.push(d.problem);
    env.set(name, d.kind === 'float' ? [...d.init.shape] : d.kind === 'int' ? [...d.value.shape] : undefined);
  }
  for (const s of graph.sparse_initializer ?? []) {
    void s;
    graphProblem('sparse initializers are not supported');
  }

  const inputs: TensorInfo[] = [];
  for (const vi of graph.input ?? []) {
    const name = vi.name ?? '';
    if (env.has(name)) continue; // an initializer listed as input (IR < 4 style)
    const shape = shapeOfType(vi.type);
    const elem = vi.type?.tensor_type?.elem_type;
    if (shape === 'not-tensor') {
      problems.push({ kind: 'dtype', node: name, message: `graph input '${name}' is not a tensor` });
      env.set(name, undefined);
      continue;
    }
    if (elem !== undefined && elem !== DataType.FLOAT && elem !== DataType.DOUBLE) {
      problems.push({
        kind: 'dtype',
        node: name,
        message: `graph input '${name}' has element type ${elem}; only FLOAT and DOUBLE inputs are supported`,
      });
    }
    if (shape === undefined) {
      problems.push({ kind: 'shape', node: name, message: `graph input '${name}' has no declared shape` });
    }
    env.set(name, shape);
    inputs.push({ name, shape: shape ?? [] });
  }

  // Topological order (Kahn), stable in file order.
  const nodes = graph.node ?? [];
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const o of n.output ?? []) {
      if (o === '') continue;
      if (producer.has(o) || env.has(o)) graphProblem(`tensor '${o}' is produced more than once`, n.name);
      producer.set(o, i);
    }
  });
  const consumers = new Map<string, number>();
  for (const n of nodes)
    for (const i of n.input ?? []) if (i !== '') consumers.set(i, (consumers.get(i) ?? 0) + 1);
  for (const o of graph.output ?? []) consumers.set(o.name ?? '', (consumers.get(o.name ?? '') ?? 0) + 1);
  const indeg = nodes.map(
    (n) => new Set((n.input ?? []).filter((x) => producer.has(x)).map((x) => producer.get(x))).size,
  );
  const dependents: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    for (const p of new Set(
      (n.input ?? []).filter((x) => producer.has(x)).map((x) => producer.get(x) ?? -1),
    )) {
      dependents[p]?.push(i);
    }
  });
  const order: number[] = [];
  const ready = indeg.map((d, i) => (d === 0 ? i : -1)).filter((i) => i >= 0);
  while (ready.length > 0) {
    ready.sort((a, b) => a - b);
    const i = ready.shift() as number;
    order.push(i);
    for (const j of dependents[i] ?? []) {
      indeg[j] = (indeg[j] ?? 0) - 1;
      if (indeg[j] === 0) ready.push(j);
    }
  }
  if (order.length < nodes.length) {
    graphProblem(`the graph has a cycle through ${nodes.length - order.length} node(s)`);
  }

  const irNodes: IrNode[] = [];
  for (const idx of order) {
    const n = nodes[idx] as NodeObj;
    const op = n.op_type ?? '';
    const name = n.name !== undefined && n.name !== '' ? n.name : `${op}_${idx}`;
    const ins = n.input ?? [];
    for (const x of ins) {
      if (x !== '' && !env.has(x)) graphProblem(`${op} '${name}': input '${x}' is never defined`, name);
    }
    const domain = n.domain ?? '';
    if ((domain !== '' && domain !== 'ai.onnx') || !SUPPORTED_OPS.includes(op)) {
      problems.push({
        kind: 'operator',
        node: name,
        op,
        message: `operator ${domain !== '' && domain !== 'ai.onnx' ? `${domain}.` : ''}${op} (node '${name}') is not supported`,
      });
      for (const o of n.output ?? []) env.set(o, undefined);
      continue;
    }
    const ctx = new NodeContext(n, name, op, opset, env, initializers, intConsts, consumers, problems);
    const ir = ctx.convert();
    ctx.attrs.finish();
    if (ir !== undefined) irNodes.push(ir);
  }

  const outputs: TensorInfo[] = [];
  for (const vi of graph.output ?? []) {
    const name = vi.name ?? '';
    if (!env.has(name)) {
      graphProblem(`graph output '${name}' is never produced`);
      continue;
    }
    const declared = shapeOfType(vi.type);
    const inferred = env.get(name);
    if (Array.isArray(declared) && inferred !== undefined) {
      const clash =
        declared.length !== inferred.length ||
        declared.some(
          (d, i) => typeof d === 'number' && typeof inferred[i] === 'number' && d !== inferred[i],
        );
      if (clash) {
        problems.push({
          kind: 'shape',
          node: name,
          message: `graph output '${name}' is declared ${fmtShape(declared)} but computes ${fmtShape(inferred)}`,
        });
      }
    }
    outputs.push({ name, shape: inferred ?? (Array.isArray(declared) ? declared : []) });
  }

  if (problems.length > 0) {
    const lines = problems.map((p) => `  - ${p.message}`).join('\n');
    throw new ShareholdError(
      'input-invalid',
      `${source}: ${problems.length} unsupported feature(s) or problem(s):\n${lines}`,
      {
        source,
        problems,
      },
    );
  }
  return {
    irVersion: Number(model.ir_version ?? 0),
    opset,
    producer: `${model.producer_name ?? ''} ${model.producer_version ?? ''}`.trim(),
    inputs,
    outputs,
    initializers,
    nodes: irNodes,
  };
}

/** Converts one supported node, inferring its output shape and recording problems. */
class NodeContext {
  readonly attrs: Attrs;
  private readonly ins: string[];
  private readonly outs: string[];
  constructor(
    node: NodeObj,
    private readonly name: string,
    private readonly op: string,
    private readonly opset: number,
    private readonly env: Map<string, Shape | undefined>,
    private readonly inits: Map<string, Initializer>,
    private readonly ints: Map<string, IntConst>,
    private readonly consumers: Map<string, number>,
    private readonly problems: ImportProblem[],
  ) {
    this.attrs = new Attrs(name, op, node.attribute ?? [], problems);
    this.ins = node.input ?? [];
    this.outs = node.output ?? [];
  }

  private shapeProblem(message: string): undefined {
    this.problems.push({
      kind: 'shape',
      node: this.name,
      op: this.op,
      message: `${this.op} '${this.name}': ${message}`,
    });
    return undefined;
  }

  /** Shape of data input i (undefined if unknown because of an earlier problem). */
  private shape(i: number): Shape | undefined {
    const x = this.ins[i];
    if (x === undefined || x === '') return undefined;
    if (this.ints.has(x)) {
      this.problems.push({
        kind: 'dtype',
        node: this.name,
        op: this.op,
        message: `${this.op} '${this.name}': integer tensor '${x}' used as data (only float data is supported)`,
      });
      return undefined;
    }
    return this.env.get(x);
  }

  private intInput(i: number, what: string): number[] | undefined {
    const x = this.ins[i];
    if (x === undefined || x === '') return undefined;
    const c = this.ints.get(x);
    if (c === undefined) {
      this.shapeProblem(`${what} '${x}' must be a constant integer tensor (initializer or Constant)`);
      return undefined;
    }
    return c.values;
  }

  private arity(min: number, max: number): boolean {
    const n = this.ins.length;
    if (n < min || n > max) {
      this.problems.push({
        kind: 'graph',
        node: this.name,
        op: this.op,
        message: `${this.op} '${this.name}' has ${n} inputs, expected ${min === max ? min : `${min}..${max}`}`,
      });
      return false;
    }
    return true;
  }

  /** Only the first output may be consumed. */
  private singleOutput(): void {
    for (const o of this.outs.slice(1)) {
      if (o !== '' && (this.consumers.get(o) ?? 0) > 0) {
        this.problems.push({
          kind: 'operator',
          node: this.name,
          op: this.op,
          message: `${this.op} '${this.name}': secondary output '${o}' is used (only the first output is supported)`,
        });
      }
    }
  }

  private emit<T extends IrNode['op']>(
    op: T,
    shape: Shape | undefined,
    inputs: string[],
    extra: Omit<Extract<IrNode, { op: T }>, 'op' | 'name' | 'onnxOp' | 'inputs' | 'output' | 'shape'>,
  ): IrNode {
    const output = this.outs[0] ?? '';
    this.env.set(output, shape);
    for (const o of this.outs.slice(1)) this.env.set(o, undefined);
    return { op, name: this.name, onnxOp: this.op, inputs, output, shape: shape ?? [], ...extra } as IrNode;
  }

  convert(): IrNode | undefined {
    this.singleOutput();
    if ((this.outs[0] ?? '') === '') {
      this.problems.push({
        kind: 'graph',
        node: this.name,
        op: this.op,
        message: `${this.op} '${this.name}' has no output`,
      });
      return undefined;
    }
    switch (this.op) {
      case 'Gemm':
        return this.gemm();
      case 'MatMul':
        return this.matmul();
      case 'Add':
      case 'Sub':
      case 'Mul':
        return this.binary();
      case 'Relu':
      case 'Sigmoid':
      case 'Tanh':
      case 'Identity':
        this.arity(1, 1);
        return this.emit(
          (this.op === 'Identity' ? 'identity' : this.op.toLowerCase()) as 'relu',
          this.shape(0),
          [this.ins[0] ?? ''],
          {},
        );
      case 'Dropout':
        return this.dropout();
      case 'Softmax':
      case 'LogSoftmax':
        return this.softmax();
      case 'Conv':
        return this.conv();
      case 'MaxPool':
      case 'AveragePool':
        return this.pool();
      case 'GlobalAveragePool':
        return this.globalPool();
      case 'Flatten':
        return this.flatten();
      case 'Reshape':
        return this.reshape();
      case 'Transpose':
        return this.transpose();
      case 'BatchNormalization':
        return this.batchNorm();
      case 'Constant':
        this.constant();
        return undefined;
      case 'Concat':
        return this.concat();
      case 'Squeeze':
      case 'Unsqueeze':
        return this.squeeze();
      default:
        return undefined;
    }
  }

  private gemm(): IrNode {
    this.arity(2, 3);
    const alpha = this.attrs.float('alpha', 1);
    const beta = this.attrs.float('beta', 1);
    const transA = this.attrs.int('transA', 0) !== 0;
    const transB = this.attrs.int('transB', 0) !== 0;
    const a = this.shape(0);
    const b = this.shape(1);
    const hasC = (this.ins[2] ?? '') !== '';
    const c = hasC ? this.shape(2) : [];
    let out: Shape | undefined;
    if (a !== undefined && b !== undefined) {
      if (a.length !== 2 || b.length !== 2) {
        this.shapeProblem(`A ${fmtShape(a)} and B ${fmtShape(b)} must both be 2-D`);
      } else {
        const [m, ka] = transA ? [a[1], a[0]] : [a[0], a[1]];
        const [kb, n] = transB ? [b[1], b[0]] : [b[0], b[1]];
        if (typeof ka === 'number' && typeof kb === 'number' && ka !== kb) {
          this.shapeProblem(
            `inner dimensions differ: A ${fmtShape(a)}${transA ? 'ᵀ' : ''} × B ${fmtShape(b)}${transB ? 'ᵀ' : ''}`,
          );
        } else {
          out = [m as Dim, n as Dim];
          if (c !== undefined) {
            const bc = broadcast(out, c);
            if (bc === undefined || c.length > 2 || bc.some((d, i) => d !== out?.[i])) {
              this.shapeProblem(`C ${fmtShape(c)} does not broadcast to ${fmtShape(out)}`);
              out = undefined;
            }
          }
        }
      }
    }
    const inputs = [this.ins[0] ?? '', this.ins[1] ?? ''];
    if (hasC) inputs.push(this.ins[2] ?? '');
    return this.emit('gemm', out, inputs, { alpha, beta, transA, transB });
  }

  private matmul(): IrNode {
    this.arity(2, 2);
    const a = this.shape(0);
    const b = this.shape(1);
    let out: Shape | undefined;
    if (a !== undefined && b !== undefined) {
      if (a.length === 0 || b.length === 0) this.shapeProblem('operands must have rank ≥ 1');
      else {
        const a2 = a.length === 1 ? [1, a[0] as Dim] : a;
        const b2 = b.length === 1 ? [b[0] as Dim, 1] : b;
        const ka = a2[a2.length - 1] as Dim;
        const kb = b2[b2.length - 2] as Dim;
        const batch = broadcast(a2.slice(0, -2), b2.slice(0, -2));
        if (typeof ka === 'number' && typeof kb === 'number' && ka !== kb) {
          this.shapeProblem(`inner dimensions differ: ${fmtShape(a)} × ${fmtShape(b)}`);
        } else if (batch === undefined) {
          this.shapeProblem(`batch dimensions of ${fmtShape(a)} and ${fmtShape(b)} do not broadcast`);
        } else {
          out = [...batch];
          if (a.length > 1) out.push(a2[a2.length - 2] as Dim);
          if (b.length > 1) out.push(b2[b2.length - 1] as Dim);
        }
      }
    }
    return this.emit('matmul', out, [this.ins[0] ?? '', this.ins[1] ?? ''], {});
  }

  private binary(): IrNode {
    this.arity(2, 2);
    if (this.opset < 7) this.attrs.ignore('broadcast', 'axis');
    const a = this.shape(0);
    const b = this.shape(1);
    let out: Shape | undefined;
    if (a !== undefined && b !== undefined) {
      out = broadcast(a, b);
      if (out === undefined) this.shapeProblem(`${fmtShape(a)} and ${fmtShape(b)} do not broadcast`);
    }
    return this.emit(this.op.toLowerCase() as 'add', out, [this.ins[0] ?? '', this.ins[1] ?? ''], {});
  }

  private dropout(): IrNode {
    this.arity(1, 3);
    this.attrs.ignore('seed', 'ratio', 'is_test');
    const tm = this.ins[2] ?? '';
    if (tm !== '') {
      const v = this.ints.get(tm)?.values;
      const f = this.inits.get(tm)?.data;
      const value = v?.[0] ?? f?.[0];
      if (value === undefined) this.shapeProblem(`training_mode input '${tm}' must be a constant`);
      else if (value !== 0) this.shapeProblem('training_mode = true is not supported (inference only)');
    }
    return this.emit('identity', this.shape(0), [this.ins[0] ?? ''], {});
  }

  private softmax(): IrNode {
    this.arity(1, 1);
    const x = this.shape(0);
    const axis = this.attrs.int('axis', this.opset >= 13 ? -1 : 1);
    let ax = 0;
    let out: Shape | undefined;
    if (x !== undefined) {
      const n = normAxis(axis, x.length);
      if (n === undefined) this.shapeProblem(`axis ${axis} is out of range for rank ${x.length}`);
      else if (this.opset < 13 && n !== x.length - 1) {
        this.shapeProblem(
          `axis ${axis} before opset 13 means a flattened 2-D softmax; only the last axis is supported`,
        );
      } else {
        ax = n;
        out = x;
      }
    }
    return this.emit(this.op === 'Softmax' ? 'softmax' : 'logSoftmax', out, [this.ins[0] ?? ''], {
      axis: ax,
    });
  }

  /** kernel/strides/pads/dilations/auto_pad shared by Conv and the pools. */
  private window(kernelFromWeights: Dim[] | undefined): {
    kernel: [number, number];
    strides: [number, number];
    pads: [number, number, number, number];
    ok: boolean;
  } {
    let ok = true;
    const autoPad = this.attrs.string('auto_pad', 'NOTSET');
    if (autoPad !== 'NOTSET' && autoPad !== 'VALID') {
      this.attrs.problem('auto_pad', `= ${autoPad} is not supported (NOTSET or VALID with explicit pads)`);
      ok = false;
    }
    let kernel = this.attrs.ints('kernel_shape');
    if (
      kernel === undefined &&
      kernelFromWeights !== undefined &&
      kernelFromWeights.every((d) => typeof d === 'number')
    ) {
      kernel = kernelFromWeights;
    }
    if (kernel === undefined) {
      this.attrs.problem('kernel_shape', 'is required');
      kernel = [1, 1];
      ok = false;
    } else if (kernel.length !== 2) {
      this.attrs.problem('kernel_shape', `= ${fmtShape(kernel)}: only 2-D windows are supported`);
      ok = false;
    } else if (
      kernelFromWeights !== undefined &&
      kernelFromWeights.some((d, i) => typeof d === 'number' && d !== kernel?.[i])
    ) {
      this.attrs.problem(
        'kernel_shape',
        `= ${fmtShape(kernel)} does not match the weights ${fmtShape(kernelFromWeights)}`,
      );
      ok = false;
    }
    const strides = this.attrs.ints('strides') ?? [1, 1];
    if (strides.length !== 2 || strides.some((s) => s < 1)) {
      this.attrs.problem('strides', `= ${fmtShape(strides)} is not supported (two positive strides)`);
      ok = false;
    }
    const pads = autoPad === 'VALID' ? [0, 0, 0, 0] : (this.attrs.ints('pads') ?? [0, 0, 0, 0]);
    if (pads.length !== 4 || pads.some((p) => p < 0)) {
      this.attrs.problem('pads', `= ${fmtShape(pads)} is not supported (four non-negative pads)`);
      ok = false;
    }
    const dil = this.attrs.ints('dilations');
    if (dil !== undefined && dil.some((d) => d !== 1)) {
      this.attrs.problem('dilations', `= ${fmtShape(dil)} is not supported (only 1)`);
      ok = false;
    }
    return {
      kernel: [kernel[0] ?? 1, kernel[1] ?? 1],
      strides: [strides[0] ?? 1, strides[1] ?? 1],
      pads: [pads[0] ?? 0, pads[1] ?? 0, pads[2] ?? 0, pads[3] ?? 0],
      ok,
    };
  }

  private spatialOut(x: Shape, channels: Dim, w: ReturnType<NodeContext['window']>): Shape | undefined {
    const h = x[2] as Dim;
    const wd = x[3] as Dim;
    const outDim = (d: Dim, k: number, s: number, p0: number, p1: number): Dim | undefined => {
      if (typeof d !== 'number') return this.shapeProblem(`spatial dimension '${d}' must be fixed`);
      const span = d + p0 + p1 - k;
      if (span < 0) return this.shapeProblem(`window ${k} is larger than the padded input ${d + p0 + p1}`);
      return Math.floor(span / s) + 1;
    };
    const oh = outDim(h, w.kernel[0], w.strides[0], w.pads[0], w.pads[2]);
    const ow = outDim(wd, w.kernel[1], w.strides[1], w.pads[1], w.pads[3]);
    if (oh === undefined || ow === undefined) return undefined;
    return [x[0] as Dim, channels, oh, ow];
  }

  private conv(): IrNode {
    this.arity(2, 3);
    const x = this.shape(0);
    const wShape = this.shape(1);
    const hasB = (this.ins[2] ?? '') !== '';
    const b = hasB ? this.shape(2) : [];
    const group = this.attrs.int('group', 1);
    if (group !== 1) this.attrs.problem('group', `= ${group} is not supported (only 1)`);
    const win = this.window(wShape?.slice(2));
    let out: Shape | undefined;
    if (x !== undefined && wShape !== undefined && win.ok && group === 1) {
      if (x.length !== 4 || wShape.length !== 4) {
        this.shapeProblem(
          `input ${fmtShape(x)} and weights ${fmtShape(wShape)} must be 4-D (only 2-D convolution)`,
        );
      } else if (typeof x[1] === 'number' && typeof wShape[1] === 'number' && x[1] !== wShape[1]) {
        this.shapeProblem(`input has ${x[1]} channels but weights ${fmtShape(wShape)} expect ${wShape[1]}`);
      } else if (
        b !== undefined &&
        hasB &&
        (b.length !== 1 || (typeof b[0] === 'number' && typeof wShape[0] === 'number' && b[0] !== wShape[0]))
      ) {
        this.shapeProblem(`bias ${fmtShape(b)} does not match ${wShape[0]} output channels`);
      } else {
        out = this.spatialOut(x, wShape[0] as Dim, win);
      }
    }
    const inputs = [this.ins[0] ?? '', this.ins[1] ?? ''];
    if (hasB) inputs.push(this.ins[2] ?? '');
    return this.emit('conv2d', out, inputs, { kernel: win.kernel, strides: win.strides, pads: win.pads });
  }

  private pool(): IrNode {
    this.arity(1, 1);
    const x = this.shape(0);
    const ceil = this.attrs.int('ceil_mode', 0);
    if (ceil !== 0) this.attrs.problem('ceil_mode', `= ${ceil} is not supported (only 0)`);
    let countIncludePad = false;
    if (this.op === 'MaxPool') {
      const so = this.attrs.int('storage_order', 0);
      if (so !== 0) this.attrs.problem('storage_order', `= ${so} is not supported (only 0)`);
    } else {
      countIncludePad = this.attrs.int('count_include_pad', 0) !== 0;
    }
    const win = this.window(undefined);
    let out: Shape | undefined;
    if (x !== undefined && win.ok && ceil === 0) {
      if (x.length !== 4) this.shapeProblem(`input ${fmtShape(x)} must be 4-D (only 2-D pooling)`);
      else out = this.spatialOut(x, x[1] as Dim, win);
    }
    return this.emit(this.op === 'MaxPool' ? 'maxPool2d' : 'avgPool2d', out, [this.ins[0] ?? ''], {
      kernel: win.kernel,
      strides: win.strides,
      pads: win.pads,
      countIncludePad,
    });
  }

  private globalPool(): IrNode {
    this.arity(1, 1);
    const x = this.shape(0);
    let out: Shape | undefined;
    if (x !== undefined) {
      if (x.length < 3) this.shapeProblem(`input ${fmtShape(x)} must have rank ≥ 3`);
      else out = [x[0] as Dim, x[1] as Dim, ...x.slice(2).map(() => 1)];
    }
    return this.emit('globalAvgPool', out, [this.ins[0] ?? ''], {});
  }

  private flatten(): IrNode {
    this.arity(1, 1);
    const x = this.shape(0);
    const axis = this.attrs.int('axis', 1);
    let ax = axis;
    let out: Shape | undefined;
    if (x !== undefined) {
      const a = axis < 0 ? axis + x.length : axis;
      if (a < 0 || a > x.length) this.attrs.problem('axis', `= ${axis} is out of range for rank ${x.length}`);
      else {
        ax = a;
        out = [symProduct(x.slice(0, a)), symProduct(x.slice(a))];
      }
    }
    return this.emit('flatten', out, [this.ins[0] ?? ''], { axis: ax });
  }

  private reshape(): IrNode {
    this.arity(2, 2);
    if (this.opset < 5) this.attrs.problem('shape', 'as an attribute (opset < 5) is not supported');
    const allowzero = this.attrs.int('allowzero', 0);
    if (allowzero !== 0) this.attrs.problem('allowzero', `= ${allowzero} is not supported (only 0)`);
    const x = this.shape(0);
    const target = this.intInput(1, 'shape');
    let out: Shape | undefined;
    if (x !== undefined && target !== undefined) out = this.reshapeShape(x, target);
    return this.emit('reshape', out, [this.ins[0] ?? ''], { target: target ?? [] });
  }

  private reshapeShape(x: Shape, target: number[]): Shape | undefined {
    if (target.filter((d) => d === -1).length > 1)
      return this.shapeProblem(`shape ${fmtShape(target)} has more than one -1`);
    if (target.some((d) => d < -1))
      return this.shapeProblem(`shape ${fmtShape(target)} has a negative dimension`);
    const resolved: Dim[] = [];
    for (let i = 0; i < target.length; i++) {
      const d = target[i] as number;
      if (d === 0) {
        if (i >= x.length)
          return this.shapeProblem(
            `shape ${fmtShape(target)} copies dimension ${i} of rank-${x.length} input`,
          );
        resolved.push(x[i] as Dim);
      } else resolved.push(d);
    }
    const inSyms = x.filter((d): d is string => typeof d === 'string');
    const outSyms = resolved.filter((d): d is string => typeof d === 'string');
    const inNum = product(x.filter((d): d is number => typeof d === 'number'));
    const outNum = product(resolved.filter((d): d is number => typeof d === 'number' && d !== -1));
    const restSyms = [...inSyms];
    for (const s of outSyms) {
      const k = restSyms.indexOf(s);
      if (k < 0) return this.shapeProblem(`cannot reshape ${fmtShape(x)} to ${fmtShape(target)}`);
      restSyms.splice(k, 1);
    }
    const hole = resolved.indexOf(-1);
    if (hole < 0) {
      if (restSyms.length > 0 || inNum !== outNum)
        return this.shapeProblem(
          `cannot reshape ${fmtShape(x)} (${symProduct(x)} values) to ${fmtShape(target)}`,
        );
      return resolved;
    }
    if (outNum === 0 || inNum % outNum !== 0)
      return this.shapeProblem(`cannot reshape ${fmtShape(x)} to ${fmtShape(target)}`);
    resolved[hole] = symProduct([...restSyms, inNum / outNum]);
    return resolved;
  }

  private transpose(): IrNode {
    this.arity(1, 1);
    const x = this.shape(0);
    const perm = this.attrs.ints('perm');
    let out: Shape | undefined;
    let p: number[] = perm ?? [];
    if (x !== undefined) {
      p = perm ?? x.map((_, i) => x.length - 1 - i);
      const ok = p.length === x.length && [...p].sort((a, b) => a - b).every((v, i) => v === i);
      if (!ok) this.attrs.problem('perm', `= ${fmtShape(p)} is not a permutation of rank ${x.length}`);
      else out = p.map((i) => x[i] as Dim);
    }
    return this.emit('transpose', out, [this.ins[0] ?? ''], { perm: p });
  }

  private batchNorm(): IrNode {
    this.arity(5, 5);
    const epsilon = this.attrs.float('epsilon', 1e-5);
    this.attrs.ignore('momentum');
    const tm = this.attrs.int('training_mode', 0);
    if (tm !== 0) this.attrs.problem('training_mode', `= ${tm} is not supported (inference only)`);
    if (this.opset < 9) {
      const spatial = this.attrs.int('spatial', 1);
      if (spatial !== 1) this.attrs.problem('spatial', `= ${spatial} is not supported (only 1)`);
      this.attrs.ignore('is_test', 'consumed_inputs');
    }
    const x = this.shape(0);
    let out: Shape | undefined = x;
    if (x !== undefined && x.length < 2) {
      out = this.shapeProblem(`input ${fmtShape(x)} must have rank ≥ 2`);
    }
    for (let i = 1; i < 5; i++) {
      const nm = this.ins[i] ?? '';
      const p = this.inits.get(nm);
      if (p === undefined) {
        out = this.shapeProblem(`parameter '${nm}' must be a constant float tensor`);
      } else if (
        p.shape.length !== 1 ||
        (x !== undefined && typeof x[1] === 'number' && p.shape[0] !== x[1])
      ) {
        out = this.shapeProblem(
          `parameter '${nm}' ${fmtShape(p.shape)} does not match the channels of ${fmtShape(x ?? [])}`,
        );
      }
    }
    return this.emit('batchNorm', out, this.ins.slice(0, 5), { epsilon });
  }

  private constant(): void {
    this.arity(0, 0);
    const output = this.outs[0] ?? '';
    let d: Decoded | undefined;
    if (this.attrs.has('value')) {
      const t = this.attrs.tensor('value');
      d = t === undefined ? undefined : decodeTensor(t, output);
    } else if (this.attrs.has('value_float')) {
      d = {
        kind: 'float',
        init: {
          name: output,
          shape: [],
          dtype: 'float32',
          data: Float32Array.of(this.attrs.float('value_float', 0)),
        },
      };
    } else if (this.attrs.has('value_floats')) {
      const v = this.attrs.floats('value_floats') ?? [];
      d = {
        kind: 'float',
        init: { name: output, shape: [v.length], dtype: 'float32', data: Float32Array.from(v) },
      };
    } else if (this.attrs.has('value_int')) {
      d = { kind: 'int', value: { shape: [], values: [this.attrs.int('value_int', 0)] } };
    } else if (this.attrs.has('value_ints')) {
      const v = this.attrs.ints('value_ints') ?? [];
      d = { kind: 'int', value: { shape: [v.length], values: v } };
    } else {
      this.problems.push({
        kind: 'attribute',
        node: this.name,
        op: this.op,
        message: `Constant '${this.name}': no supported value attribute (value, value_float(s), value_int(s))`,
      });
    }
    if (d?.kind === 'float') {
      this.inits.set(output, d.init);
      this.env.set(output, [...d.init.shape]);
    } else if (d?.kind === 'int') {
      this.ints.set(output, d.value);
      this.env.set(output, [...d.value.shape]);
    } else {
      if (d?.kind === 'error') this.problems.push(d.problem);
      this.env.set(output, undefined);
    }
  }

  private concat(): IrNode {
    if (this.ins.length < 1) this.arity(1, Infinity);
    const axis = this.attrs.int('axis', Number.NaN);
    if (Number.isNaN(axis)) this.attrs.problem('axis', 'is required');
    const shapes = this.ins.map((_, i) => this.shape(i));
    let out: Shape | undefined;
    let ax = axis;
    if (shapes.every((s) => s !== undefined) && !Number.isNaN(axis) && shapes.length > 0) {
      const first = shapes[0] as Shape;
      const a = normAxis(axis, first.length);
      if (a === undefined) this.attrs.problem('axis', `= ${axis} is out of range for rank ${first.length}`);
      else {
        ax = a;
        const bad = shapes.find(
          (s) =>
            s.length !== first.length ||
            s.some(
              (d, i) => i !== a && typeof d === 'number' && typeof first[i] === 'number' && d !== first[i],
            ),
        );
        if (bad !== undefined)
          this.shapeProblem(`inputs ${shapes.map((s) => fmtShape(s)).join(', ')} differ outside axis ${a}`);
        else out = first.map((d, i) => (i === a ? sumDims(shapes.map((s) => s[i] as Dim)) : d));
      }
    }
    return this.emit('concat', out, [...this.ins], { axis: ax });
  }

  private squeeze(): IrNode {
    const squeeze = this.op === 'Squeeze';
    let axes: number[] | undefined;
    if (this.opset >= 13) {
      this.arity(squeeze ? 1 : 2, 2);
      axes = this.intInput(1, 'axes');
      if (!squeeze && axes === undefined && (this.ins[1] ?? '') === '')
        this.shapeProblem('axes input is required');
    } else {
      this.arity(1, 1);
      axes = this.attrs.ints('axes');
      if (!squeeze && axes === undefined) this.attrs.problem('axes', 'is required');
    }
    const x = this.shape(0);
    let out: Shape | undefined;
    let norm: number[] = axes ?? [];
    if (x !== undefined) {
      if (squeeze) {
        if (axes === undefined) {
          if (x.some((d) => typeof d !== 'number'))
            this.shapeProblem(`squeezing all unit dims of ${fmtShape(x)} needs a fixed shape`);
          else norm = x.flatMap((d, i) => (d === 1 ? [i] : []));
        } else norm = axes.map((a) => (a < 0 ? a + x.length : a));
        if (norm.some((a) => a < 0 || a >= x.length))
          this.shapeProblem(`axes ${fmtShape(axes ?? [])} out of range for ${fmtShape(x)}`);
        else if (norm.some((a) => x[a] !== 1))
          this.shapeProblem(`axes ${fmtShape(norm)} of ${fmtShape(x)} are not all 1`);
        else out = x.filter((_, i) => !norm.includes(i));
      } else if (axes !== undefined) {
        const r = x.length + axes.length;
        norm = axes.map((a) => (a < 0 ? a + r : a));
        if (norm.some((a) => a < 0 || a >= r) || new Set(norm).size !== norm.length) {
          this.shapeProblem(`axes ${fmtShape(axes)} invalid for output rank ${r}`);
        } else {
          out = [];
          let k = 0;
          for (let i = 0; i < r; i++) out.push(norm.includes(i) ? 1 : (x[k++] as Dim));
        }
      }
    }
    norm = [...norm].sort((a, b) => a - b);
    return this.emit(squeeze ? 'squeeze' : 'unsqueeze', out, [this.ins[0] ?? ''], { axes: norm });
  }
}

function sumDims(ds: Dim[]): Dim {
  if (ds.every((d) => typeof d === 'number')) return ds.reduce((a, b) => a + b, 0);
  return ds.join('+');
}
